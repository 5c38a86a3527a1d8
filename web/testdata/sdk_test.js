// The test page's module: it loads the SDK as a platform page would and
// gives the Go tests (web/sdk_browser_test.go) a few helpers.
import RealnameAuth from '/sdk/realname.js';

window.RealnameAuth = RealnameAuth;
window.log = [];
window.tokenCalls = 0;
window.consent = () => ({ notice_version: 'test-1', accepted_at: new Date().toISOString(), scopes: ['id_number', 'face'] });

// make builds an SDK instance with small intervals and records its events.
window.make = (opts = {}) => {
  const a = new RealnameAuth(Object.assign({
    getToken: async () => { window.tokenCalls++; return 'user-token-' + window.tokenCalls; },
    pollInterval: 40,
    pollMaxInterval: 200,
    requestTimeout: 2000,
  }, opts));
  for (const ev of ['authinit', 'authsuccess', 'authfail', 'authcancel', 'autherror']) {
    a.on(ev, (d) => window.log.push({ ev, d, t: performance.now() }));
  }
  window.auth = a;
  return a;
};

window.events = () => window.log.map((e) => e.ev);

// waitFor resolves with the first truthy value of pred, polling.
window.waitFor = (pred, ms = 5000) => new Promise((resolve, reject) => {
  const t0 = performance.now();
  const f = () => {
    let v;
    try { v = pred(); } catch (e) { v = undefined; }
    if (v) resolve(v);
    else if (performance.now() - t0 > ms) reject(new Error('waitFor timed out: ' + pred));
    else setTimeout(f, 10);
  };
  f();
});

window.sleep = (ms) => new Promise((r) => setTimeout(r, ms));

document.documentElement.dataset.ready = 'yes';
