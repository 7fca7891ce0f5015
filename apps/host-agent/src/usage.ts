/** `wrenn agent --help`: every option, with its environment variable and default. */
export const AGENT_USAGE = `Usage: wrenn agent [options]

Runs the Wrenn host agent: capsules on this machine behind the hostagent.v1 Connect API
and the /proxy/{capsule}/{port}/ port proxy (also served by a thread of its own on the
proxy port, so proxied traffic never slows PTY and exec streams). Needs root.

Options (each also read from the environment variable shown; flags win):
  --listen <host:port>     address to serve on               WRENN_HOST_LISTEN_ADDR  [127.0.0.1:50051]
  --proxy-port <n|off>     proxy thread's port on the listen host; 0 = any free port
                           (the control plane asks the agent); off = /proxy only on
                           the listen port                 WRENN_HOST_PROXY_PORT   [0]
  --runtime <name>         auto | namespace | qemu | firecracker  WRENN_RUNTIME       [auto]
                           auto: firecracker with a firecracker binary and hardware KVM,
                           else qemu with hardware KVM, else namespace
  --wrenn-dir <path>       state: capsules, templates, credentials  WRENN_DIR         [/var/lib/wrenn]
  --cache-dir <path>       guest images, kernels, VM template snapshots  WRENN_CACHE_DIR [the state dir]
  --cp-url <url>           control plane; unset = standalone   WRENN_CP_URL
  --register <token>       register with the control plane using this one-time token
                           (needs --cp-url and --address); the result is saved to
                           <wrenn-dir>/host-credentials.json and reused on later starts
  --address <host:port>    where the control plane reaches this agent  WRENN_HOST_ADDRESS
  --tls-cert <path>        TLS 1.3 with client certificates required (mTLS): the agent's
  --tls-key <path>           certificate, key and the CA clients must chain to
  --tls-ca <path>            WRENN_TLS_CERT, WRENN_TLS_KEY, WRENN_TLS_CA
                           [without them: the registration's certificates, else plain HTTP]
  --allow-plaintext        allow plain HTTP on a non-loopback address   WRENN_ALLOW_PLAINTEXT=1
  --log-level <level>      trace | debug | info | warn | error | fatal | silent  LOG_LEVEL [info]
  -h, --help               show this help

Environment only:
  WRENN_FIRECRACKER_BIN    firecracker binary [firecracker on PATH]
  WRENN_NET_PREFIX         name prefix of every netns, veth, nft table and cgroup [wrn]
  WRENN_NET_SUBNET         IPv4 /16 for capsule /30s [10.211.0.0/16]
  WRENN_NET_FIRST_SLOT, WRENN_NET_SLOTS, WRENN_NET_POOL  slot range and pre-created pool [1, 4000, 16]
  WRENN_NET_UPLINKS        host interfaces capsule egress leaves by (comma list)
  WRENN_WARM_POOL          capsules of the minimal template launched ahead of time for
                           creates to claim (namespace runtime; 0 = off) [2]

At start the agent removes what a previous run of the same prefix left (capsule processes,
cgroups, overlay mounts, network slots, capsule directories). SIGTERM or SIGINT stops it
gracefully: no new connections, every capsule destroyed, exit status 0.
`;
