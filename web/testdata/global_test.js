// Uses the classic build's global, as a page without modules would.
/* global RealnameAuth */
window.classic = {
  type: typeof RealnameAuth,
  apiBase: new RealnameAuth({ getToken: async () => 't' }).options.apiBase,
  idOK: RealnameAuth.validateIdNumber('11010519491231002X').ok,
  message: RealnameAuth.messages('RATE_LIMITED', 'en'),
};
document.documentElement.dataset.ready = 'yes';
