import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FakeFirecracker } from "./fake-fc-server.js";
import { FcApiClient, FirecrackerApiError } from "./fc-api-client.js";
import {
  coldBootSequence,
  createSnapshot,
  describeInstance,
  loadSnapshot,
  patchVmState,
  putBootSource,
  putMmds,
} from "./fc-requests.js";
import { FcSchema } from "./fc-schema.js";

const schema = new FcSchema();
let dir = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "fc-api-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const boot = coldBootSequence({
  kernelPath: "/k",
  rootfsPath: "/r",
  sandboxId: "cl-1",
  templateId: "tpl-1",
  vcpus: 2,
  memoryMb: 256,
});

describe("FcApiClient against a fake Firecracker API on a unix socket", () => {
  it("boots, pauses and snapshots with every body accepted by the schema-checking server", async () => {
    await using fake = await FakeFirecracker.listen(join(dir, "a.sock"), schema);
    const api = new FcApiClient(fake.socketPath);
    const info = await api.send(describeInstance());
    assert.ok(schema.validator("InstanceInfo")(info), "GET / answers an InstanceInfo");
    await api.sendAll(boot);
    assert.equal(fake.state, "Running");
    await api.send(patchVmState("Paused"));
    await api.send(createSnapshot("/s/vmstate", "/s/memfile"));
    assert.equal(fake.state, "Paused");
    assert.deepEqual(fake.requests.map((r) => `${r.method} ${r.path}`).slice(-3), [
      "PUT /actions",
      "PATCH /vm",
      "PUT /snapshot/create",
    ]);
    assert.deepEqual(fake.requests.find((r) => r.path === "/mmds")?.body, { instanceID: "cl-1", envID: "tpl-1" });
  });

  it("restores a snapshot on a fresh process and re-puts MMDS", async () => {
    await using fake = await FakeFirecracker.listen(join(dir, "b.sock"), schema);
    const api = new FcApiClient(fake.socketPath);
    await api.send(loadSnapshot("/s/vmstate", { type: "Uffd", path: "/s/uffd.sock" }, false));
    await api.send(patchVmState("Resumed"));
    await api.send(putMmds({ sandboxId: "cl-1", templateId: "tpl-1" }));
    assert.equal(fake.state, "Running");
  });

  it("turns Firecracker's fault_message into a clear error naming the call", async () => {
    await using fake = await FakeFirecracker.listen(join(dir, "c.sock"), schema);
    const api = new FcApiClient(fake.socketPath);
    // A misspelled field is refused by the schema-checking fake, as by Firecracker.
    const bad = { method: "PUT" as const, path: "/boot-source", body: { kernel_image_pth: "/k" } };
    const err = await api.send(bad).then(
      () => assert.fail("accepted a bad body"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof FirecrackerApiError);
    assert.equal(err.status, 400);
    assert.match(err.message, /^firecracker PUT \/boot-source failed with 400: .*kernel_image_path/);
    // A state error: pre-boot resources cannot change after InstanceStart.
    await api.sendAll(boot);
    await assert.rejects(api.send(putBootSource("/k2")), /PUT \/boot-source failed with 400: .*after starting/);
    fake.failNext = "Cannot create snapshot: disk full";
    await assert.rejects(api.send(createSnapshot("/a", "/b")), (e: unknown) => {
      assert.ok(e instanceof FirecrackerApiError);
      assert.equal(e.faultMessage, "Cannot create snapshot: disk full");
      return true;
    });
  });

  it("honours an AbortSignal and its own timeout when Firecracker does not answer", async () => {
    const sock = join(dir, "hang.sock");
    const hanging = createServer(() => {
      // never answers, like a wedged VMM
    });
    await new Promise<void>((r) => hanging.listen(sock, r));
    try {
      const ac = new AbortController();
      const t0 = performance.now();
      setTimeout(() => ac.abort(new Error("caller gave up")), 50);
      await assert.rejects(new FcApiClient(sock).send(describeInstance(), ac.signal), /caller gave up/);
      assert.ok(performance.now() - t0 < 1000);
      await assert.rejects(new FcApiClient(sock, { timeoutMs: 50 }).send(describeInstance()), { name: "TimeoutError" });
    } finally {
      hanging.closeAllConnections();
      await new Promise((r) => hanging.close(r));
    }
  });

  it("reports a missing socket as a connection error", async () => {
    await assert.rejects(new FcApiClient(join(dir, "none.sock")).send(describeInstance()), /ENOENT/);
  });
});
