import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { isForeignKeyViolation, isUniqueViolation } from "../db/database-error.js";
import { databaseBackends, type TestDatabase } from "../testing/databases.js";
import { createTestTeam } from "../testing/repo-fixtures.js";
import { CHANNEL_NAME_TAKEN_CONSTRAINT, createChannelsRepo } from "./channels.repo.js";

for (const backend of databaseBackends) {
  describe(`channels repo (${backend.kind})`, { timeout: 60_000 }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    test("insert and read back config and event types; names unique per team", async () => {
      const channels = createChannelsRepo(db);
      const team = await createTestTeam(db);
      const other = await createTestTeam(db);
      const input = {
        teamId: team.id,
        name: "ops-alerts",
        provider: "webhook",
        config: { url: "ZW5jcnlwdGVk", secret: "c2VjcmV0" },
        eventTypes: ["capsule.created", "host.down"],
      };
      const channel = await channels.insert(input);
      assert.deepEqual(channel.config, input.config);
      assert.deepEqual(channel.eventTypes, input.eventTypes);
      assert.deepEqual(await channels.getForTeam(team.id, channel.id), channel);
      assert.equal(await channels.getForTeam(other.id, channel.id), undefined);
      await assert.rejects(channels.insert(input), (err) => isUniqueViolation(err, CHANNEL_NAME_TAKEN_CONSTRAINT));
      await channels.insert({ ...input, teamId: other.id });
      await assert.rejects(channels.insert({ ...input, teamId: randomUUID() }), (err) => isForeignKeyViolation(err));
    });

    test("update, config rotation and delete are scoped to the team", async () => {
      const channels = createChannelsRepo(db);
      const team = await createTestTeam(db);
      const other = await createTestTeam(db);
      const a = await channels.insert({
        teamId: team.id,
        name: "a",
        provider: "slack",
        config: { k: "1" },
        eventTypes: [],
      });
      await channels.insert({ teamId: team.id, name: "b", provider: "slack", config: {}, eventTypes: [] });
      assert.equal(await channels.update(other.id, a.id, { name: "x", eventTypes: [] }), undefined);
      await assert.rejects(channels.update(team.id, a.id, { name: "b", eventTypes: [] }), (err) =>
        isUniqueViolation(err, CHANNEL_NAME_TAKEN_CONSTRAINT),
      );
      const renamed = await channels.update(team.id, a.id, { name: "a2", eventTypes: ["capsule.paused"] });
      assert.equal(renamed?.name, "a2");
      assert.deepEqual(renamed?.eventTypes, ["capsule.paused"]);
      assert.ok(renamed && renamed.updatedAt >= a.updatedAt);
      assert.equal(await channels.updateConfig(other.id, a.id, { k: "2" }), false);
      assert.equal(await channels.updateConfig(team.id, a.id, { k: "2" }), true);
      assert.deepEqual((await channels.getForTeam(team.id, a.id))?.config, { k: "2" });
      assert.equal(await channels.delete(other.id, a.id), false);
      assert.equal(await channels.delete(team.id, a.id), true);
      assert.deepEqual(
        (await channels.listByTeam(team.id)).map((c) => c.name),
        ["b"],
      );
      assert.equal(await channels.deleteByTeam(team.id), 1);
    });

    test("listForEvent returns the team's channels subscribed to that event only", async () => {
      const channels = createChannelsRepo(db);
      const team = await createTestTeam(db);
      const other = await createTestTeam(db);
      const both = await channels.insert({
        teamId: team.id,
        name: "both",
        provider: "discord",
        config: {},
        eventTypes: ["capsule.created", "capsule.destroyed"],
      });
      await channels.insert({
        teamId: team.id,
        name: "hosts",
        provider: "discord",
        config: {},
        eventTypes: ["host.down"],
      });
      await channels.insert({
        teamId: other.id,
        name: "both",
        provider: "discord",
        config: {},
        eventTypes: ["capsule.created"],
      });
      assert.deepEqual(
        (await channels.listForEvent(team.id, "capsule.created")).map((c) => c.id),
        [both.id],
      );
      assert.deepEqual(await channels.listForEvent(team.id, "capsule"), [], "whole event names only");
    });
  });
}
