// Composition root of the control plane (wired in issue 4).
export {};
