// A whole scenario against a running valuesd through Humanitec's own
// generated client (@humanitec/autogen), unchanged: Apps, Environments,
// values of both levels, versions, restore, purge, secret stores, errors.
//
//   VALUESD_URL=http://127.0.0.1:8080 VALUESD_TOKEN=… VALUESD_ORG=ci node scenario.mjs
//
// Every reply is checked for the canary secret; any failure exits 1.
import assert from "node:assert/strict";
import { Configuration, PublicApi, ResponseError } from "@humanitec/autogen";

const basePath = process.env.VALUESD_URL;
const token = process.env.VALUESD_TOKEN;
const orgId = process.env.VALUESD_ORG;
assert.ok(basePath && token && orgId, "set VALUESD_URL, VALUESD_TOKEN and VALUESD_ORG");
const CANARY = `canary-${process.pid}-never-shown`;

let replies = 0;
const fetchApi = async (url, init) => {
  const response = await fetch(url, init);
  const text = await response.clone().text();
  assert.ok(!text.includes(CANARY), `${init.method} ${url} answered the canary`);
  replies += 1;
  return response;
};
const api = new PublicApi(
  new Configuration({ basePath, headers: { Authorization: `Bearer ${token}` }, fetchApi }),
);

async function fails(status, code, call) {
  try {
    await call();
  } catch (e) {
    assert.ok(e instanceof ResponseError, `a ResponseError, not ${e}`);
    assert.equal(e.response.status, status);
    const body = await e.response.json();
    assert.equal(body.error, code);
    assert.ok(body.message.length > 0);
    return;
  }
  assert.fail(`expected ${status} ${code}`);
}

const appId = `client-${process.pid}`;
const app = await api.createApplication({
  orgId,
  ApplicationCreationRequest: { id: appId, name: "Client check" },
});
assert.equal(app.id, appId);
assert.equal(app.name, "Client check");
assert.deepEqual(app.envs.map((e) => e.id), ["development"]);
await fails(409, "already_exists", () =>
  api.createApplication({ orgId, ApplicationCreationRequest: { id: appId, name: "again" } }),
);
const env = await api.createEnvironment({
  orgId,
  appId,
  EnvironmentDefinitionRequest: { id: "prod", name: "Production", type: "production" },
});
assert.equal(env.type, "production");
assert.ok(env.created_at instanceof Date && !isNaN(env.created_at));
assert.ok((await api.listApplications({ orgId })).some((a) => a.id === appId));
assert.equal((await api.getEnvironment({ orgId, appId, envId: "prod" })).name, "Production");
assert.equal((await api.listEnvironments({ orgId, appId })).length, 2);

// Values of the App and an override.
const host = await api.orgsOrgIdAppsAppIdValuesPost({
  orgId,
  appId,
  ValueCreatePayloadRequest: { key: "DB_HOST", value: "db.dev", description: "the db" },
});
assert.equal(host.value, "db.dev");
assert.equal(host.source, "app");
const secret = await api.orgsOrgIdAppsAppIdValuesPost({
  orgId,
  appId,
  ValueCreatePayloadRequest: { key: "DB_PASSWORD", value: CANARY, is_secret: true, description: "" },
});
assert.equal(secret.value, "");
assert.equal(secret.is_secret, true);
assert.equal(secret.secret_version, "1");
await api.orgsOrgIdAppsAppIdEnvsEnvIdValuesPost({
  orgId,
  appId,
  envId: "prod",
  ValueCreatePayloadRequest: { key: "DB_HOST", value: "db.prod", description: "" },
});
const merged = await api.orgsOrgIdAppsAppIdEnvsEnvIdValuesGet({ orgId, appId, envId: "prod" });
assert.deepEqual(
  merged.map((v) => [v.key, v.source]),
  [["DB_HOST", "env"], ["DB_PASSWORD", "app"]],
);
await fails(409, "key_exists", () =>
  api.orgsOrgIdAppsAppIdValuesPost({
    orgId,
    appId,
    ValueCreatePayloadRequest: { key: "DB_HOST", value: "x", description: "" },
  }),
);
const put = await api.orgsOrgIdAppsAppIdValuesKeyPut({
  orgId,
  appId,
  key: "DB_HOST",
  ValueEditPayloadRequest: { value: "db.internal", description: "moved" },
});
assert.equal(put.description, "moved");
const patched = await api.orgsOrgIdAppsAppIdEnvsEnvIdValuesKeyPatch({
  orgId,
  appId,
  envId: "prod",
  key: "DB_HOST",
  ValuePatchPayloadRequest: { value: "db.prod2" },
});
assert.equal(patched.value, "db.prod2");
await api.orgsOrgIdAppsAppIdValuesPost({
  orgId,
  appId,
  ValueCreatePayloadRequest: { key: "TEMP", value: "1", description: "" },
});
await api.orgsOrgIdAppsAppIdValuesKeyDelete({ orgId, appId, key: "TEMP" });
await fails(404, "unknown_key", () => api.orgsOrgIdAppsAppIdValuesKeyDelete({ orgId, appId, key: "TEMP" }));

// Versions: list, by key, one; restore all and one key; purge.
const versions = await api.orgsOrgIdAppsAppIdValueSetVersionsGet({ orgId, appId });
assert.deepEqual(
  versions.map((v) => v.result_of),
  ["app_value_delete", "app_value_create", "app_value_update", "app_value_create", "app_value_create"],
);
const first = versions[versions.length - 1];
assert.match(first.id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
assert.equal(first.change[0].op, "add");
assert.equal(first.change[0].path, "/DB_HOST");
const byKey = await api.orgsOrgIdAppsAppIdValueSetVersionsGet({ orgId, appId, key_changed: "DB_HOST" });
assert.equal(byKey.length, 2);
const one = await api.orgsOrgIdAppsAppIdValueSetVersionsValueSetVersionIdGet({
  orgId,
  appId,
  valueSetVersionId: first.id,
});
assert.equal(one.values.DB_HOST.value, "db.dev");
const latest = await api.orgsOrgIdAppsAppIdValueSetVersionsValueSetVersionIdGet({
  orgId,
  appId,
  valueSetVersionId: "00000000-0000-0000-0000-000000000000",
});
assert.equal(latest.id, versions[0].id);
const restored = await api.orgsOrgIdAppsAppIdValueSetVersionsValueSetVersionIdRestoreKeyPost({
  orgId,
  appId,
  valueSetVersionId: first.id,
  key: "DB_HOST",
  ValueSetActionPayloadRequest: { comment: "back to dev" },
});
assert.equal(restored.result_of, "app_value_set_version_restore");
assert.equal(restored.source_value_set_version_id, first.id);
assert.equal(restored.values.DB_HOST.value, "db.dev");
const envVersions = await api.orgsOrgIdAppsAppIdEnvsEnvIdValueSetVersionsGet({ orgId, appId, envId: "prod" });
// The Environment's own changes, and the App's bubbled into it.
assert.deepEqual(
  envVersions.slice(0, 4).map((v) => v.result_of),
  ["app_value_set_version_restore", "app_value_delete", "app_value_create", "env_value_update"],
);
const putVersion = versions.find((v) => v.result_of === "app_value_update");
await api.orgsOrgIdAppsAppIdValueSetVersionsValueSetVersionIdPurgeKeyPost({
  orgId,
  appId,
  valueSetVersionId: putVersion.id,
  key: "DB_HOST",
  ValueSetActionPayloadRequest: { comment: "wrong host" },
});
await fails(400, "already_purged", () =>
  api.orgsOrgIdAppsAppIdValueSetVersionsValueSetVersionIdPurgeKeyPost({
    orgId,
    appId,
    valueSetVersionId: putVersion.id,
    key: "DB_HOST",
    ValueSetActionPayloadRequest: {},
  }),
);
const all = await api.orgsOrgIdAppsAppIdValueSetVersionsValueSetVersionIdRestorePost({
  orgId,
  appId,
  valueSetVersionId: first.id,
  ValueSetActionPayloadRequest: { comment: "all back" },
});
assert.deepEqual(Object.keys(all.values), ["DB_HOST"]);

// Secret stores, and the end of it all.
const stores = await api.orgsOrgIdSecretstoresGet({ orgId });
assert.ok(stores.some((s) => s.primary));
await api.orgsOrgIdAppsAppIdEnvsEnvIdValuesDelete({ orgId, appId, envId: "prod" });
await api.deleteEnvironment({ orgId, appId, envId: "prod" });
await api.deleteApplication({ orgId, appId });
await fails(404, "unknown_app", () => api.getApplication({ orgId, appId }));
console.log(`the scenario passed through @humanitec/autogen: ${replies} replies, none with the secret`);
