import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from './helpers/stores.js';
import { makeDesk, type TestDesk } from './helpers/desk.js';

const CSV = 'customer_id,customer_name,customer_email,language,brand,service_id,service_type,resource,valid_from,valid_to\n' +
  'c1,Sample KK,abuse@sample.example,ja,main,vps-1,vps,203.0.113.0/24,2015-01-01,\n';

forEachStore('web: auth, inventory and attribution API', (store) => {
  test('keys and roles guard the API; import and attribute over HTTP; OpenAPI lists the routes', { timeout: 300_000 }, async () => {
    const t: TestDesk = await makeDesk(store());
    try {
      const { app } = t;
      const health = await app.inject({ method: 'GET', url: '/api/v1/health' });
      assert.equal(health.statusCode, 200);
      assert.equal(health.json().database, store().kind);

      const none = await app.inject({ method: 'GET', url: '/api/v1/attribute?resource=203.0.113.1' });
      assert.equal(none.statusCode, 401);
      const wrong = await app.inject({ method: 'GET', url: '/api/v1/attribute?resource=203.0.113.1', headers: { authorization: 'Bearer mdg_nope' } });
      assert.equal(wrong.statusCode, 401);
      const reporter = await t.keyFor(['reporter']);
      const forbidden = await app.inject({ method: 'GET', url: '/api/v1/attribute?resource=203.0.113.1', headers: reporter });
      assert.equal(forbidden.statusCode, 403);

      const me = await app.inject({ method: 'GET', url: '/api/v1/whoami', headers: reporter });
      assert.deepEqual(me.json().roles, ['reporter']);
      const admin = await t.keyFor(['admin']);
      const operator = await t.keyFor(['operator']);
      const denied = await app.inject({ method: 'POST', url: '/api/v1/inventory/import', headers: { ...operator, 'content-type': 'text/csv' }, payload: CSV });
      assert.equal(denied.statusCode, 403, 'only admins change the inventory');
      const imp = await app.inject({ method: 'POST', url: '/api/v1/inventory/import', headers: { ...admin, 'content-type': 'text/csv' }, payload: CSV });
      assert.equal(imp.statusCode, 200, imp.body);
      assert.equal(imp.json().rows, 1);
      const bad = await app.inject({ method: 'POST', url: '/api/v1/inventory/import', headers: { ...admin, 'content-type': 'text/csv' }, payload: CSV.replace('vps,203', 'tank,203') });
      assert.equal(bad.statusCode, 422);
      assert.deepEqual(bad.json().errors, [{ line: 2, reason: "service_type 'tank' is not one of shared, vps, dedicated, iaas, reseller, other" }]);

      const a = await app.inject({ method: 'GET', url: '/api/v1/attribute?resource=203.0.113.9', headers: operator });
      assert.equal(a.statusCode, 200);
      assert.equal(a.json().customer_id, 'c1');
      assert.equal(a.json().service_type, 'vps');
      const past = await app.inject({ method: 'GET', url: '/api/v1/attribute?resource=203.0.113.9&at=2010-01-01T00:00:00Z', headers: operator });
      assert.equal(past.json().customer_id, null);
      const badAt = await app.inject({ method: 'GET', url: '/api/v1/attribute?resource=203.0.113.9&at=yesterday', headers: operator });
      assert.equal(badAt.statusCode, 400);

      const list = await app.inject({ method: 'GET', url: '/api/v1/customers?q=sample', headers: operator });
      assert.deepEqual(list.json().customers.map((c: { id: string }) => c.id), ['c1']);
      const literal = await app.inject({ method: 'GET', url: '/api/v1/customers?q=%25', headers: operator });
      assert.equal(literal.json().customers.length, 0, 'a % in the query is a literal');
      const one = await app.inject({ method: 'GET', url: '/api/v1/customers/c1', headers: operator });
      assert.equal(one.statusCode, 200);
      assert.deepEqual(one.json().services[0].resources.map((r: { resource: string }) => r.resource), ['203.0.113.0/24']);
      const own = await app.inject({ method: 'GET', url: '/api/v1/customers/c1', headers: await t.keyFor(['customer'], { customerId: 'c1' }) });
      assert.equal(own.statusCode, 200);
      const other = await app.inject({ method: 'GET', url: '/api/v1/customers/c1', headers: await t.keyFor(['customer'], { customerId: 'c2' }) });
      assert.equal(other.statusCode, 404, "another customer's record is not there for a customer key");

      const spec = await app.inject({ method: 'GET', url: '/api/openapi.json' });
      assert.equal(spec.statusCode, 200);
      const paths = spec.json().paths;
      assert.ok(paths['/api/v1/attribute'].get.parameters.some((p: { name: string }) => p.name === 'resource'));
      assert.ok(paths['/api/v1/inventory/import'].post);
    } finally { await t.close(); }
  });
});
