import assert from "node:assert/strict";
import { test } from "node:test";
import { initramfsInitScript, parseShowDepends } from "./guest-init.js";

test("parseShowDepends keeps load order, drops duplicates and makes paths tree-relative", () => {
  const out = [
    "insmod /t/x/lib/modules/6.1/kernel/drivers/virtio/virtio.ko ",
    "insmod /t/x/lib/modules/6.1/kernel/drivers/virtio/virtio_ring.ko ",
    "insmod /t/x/lib/modules/6.1/kernel/drivers/virtio/virtio.ko ",
    "builtin ext4",
    "insmod /t/x/lib/modules/6.1/kernel/drivers/block/virtio_blk.ko ",
  ].join("\n");
  assert.deepEqual(parseShowDepends(out, "/t/x"), [
    "/lib/modules/6.1/kernel/drivers/virtio/virtio.ko",
    "/lib/modules/6.1/kernel/drivers/virtio/virtio_ring.ko",
    "/lib/modules/6.1/kernel/drivers/block/virtio_blk.ko",
  ]);
});

test("the initramfs init loads modules in order, sets the fixed VM address and hands over to wrenn-init", () => {
  const s = initramfsInitScript(["/a.ko", "/b.ko"]);
  assert.ok(s.startsWith("#!/bin/busybox sh\n"));
  assert.ok(s.indexOf("insmod /a.ko") < s.indexOf("insmod /b.ko"));
  assert.match(s, /^ip addr add 169\.254\.0\.21\/30 dev eth0$/m);
  assert.match(s, /^ip route add default via 169\.254\.0\.22$/m);
  assert.match(s, /^exec switch_root \/newroot \/usr\/local\/bin\/wrenn-init\n$/m);
});
