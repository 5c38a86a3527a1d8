// realname.js — the browser SDK of the realname identity verification
// service. An ES module with no dependencies (ES2020); the classic-script
// build /sdk/realname.global.js is derived from this file by web/sdk.go
// (web.GlobalSDK): keep the module's own address read in one place (the
// scriptUrl constant below) and the line that makes RealnameAuth the default the last one.
// Guide: docs/sdk.md.

const scriptUrl = import.meta.url;

const STORAGE_KEY = 'realname.session';
const API = '/api/v1/auth';

// Messages for the API's error codes and the SDK's own reasons.
const MESSAGES = {
  INVALID_ID_NUMBER: ['身份证号码格式不正确，请检查后重新输入', 'The ID card number is not valid; please check it'],
  INVALID_NAME: ['姓名格式不正确，请输入证件上的姓名', 'The name is not valid; enter it as on the ID card'],
  INVALID_CERT_TYPE: ['不支持的证件类型', 'This document type is not supported'],
  UNSUPPORTED_DOCUMENT: ['暂不支持该证件类型的认证', 'This document type cannot be verified yet'],
  NOTICE_NOT_FOUND: ['未找到该版本的个人信息处理规则', 'No such version of the notice'],
  CONSENT_REQUIRED: ['请先阅读并同意个人信息处理规则（身份证号与人脸信息）', 'Please read and accept the notice on processing your ID number and face data first'],
  ALREADY_AUTHENTICATED: ['您已完成实名认证，无需重复认证', 'You are already verified'],
  GUARDIAN_CONSENT_REQUIRED: ['未满十四周岁，需要监护人同意后才能认证', 'Under 14: a guardian must consent first'],
  USER_LOCKED: ['认证失败次数过多，请稍后再试或联系客服', 'Too many failed attempts; try again later or contact support'],
  BUDGET_EXHAUSTED: ['今日认证名额已满，请明天再试', 'The daily limit of verifications is reached; please try again tomorrow'],
  REVIEW_REJECTED: ['人工审核未通过', 'The manual review was rejected'],
  ERASED: ['认证记录已删除', 'The verification data was erased'],
  CONSENT_WITHDRAWN: ['您已撤回同意，认证已停止', 'You withdrew your consent; the verification stopped'],
  IDENTITY_BOUND_TO_OTHER_USER: ['该身份信息已绑定其他账号', 'This identity is already bound to another account'],
  IDENTITY_MISMATCH: ['姓名与身份证号码不一致', 'The name does not match the ID card number'],
  ID_MISMATCH: ['姓名与身份证号码不一致', 'The name does not match the ID card number'],
  IDENTITY_NO_RECORD: ['未查询到该身份信息，请核对后重试', 'No record of this identity; please check and try again'],
  NO_RECORD: ['未查询到该身份信息，请核对后重试', 'No record of this identity; please check and try again'],
  NO_REFERENCE_PHOTO: ['无法获取证件照片，请稍后重试', 'No reference photo is available; please try again later'],
  FACE_MISMATCH: ['人脸与实名信息不一致', 'The face does not match the identity'],
  LIVENESS_ATTACK: ['活体检测未通过，请本人实时操作', 'The liveness check failed; please do it yourself, live'],
  RISK_POLICY: ['存在风险，认证未通过', 'The check was refused by the risk policy'],
  NOT_VERIFIED: ['您尚未完成实名认证', 'You are not verified yet'],
  PENDING: ['实名认证进行中', 'Verification in progress'],
  EXPIRED: ['实名认证已过期，请重新认证', 'The verification has expired; please verify again'],
  FAILED: ['实名认证未通过', 'The verification failed'],
  CANCELLED: ['实名认证已取消', 'The verification was cancelled'],
  SESSION_CLOSED: ['本次认证已结束，请重新发起', 'This verification has ended; please start again'],
  PROVIDER_LOST_SESSION: ['认证会话已失效，请重新发起', 'The verification session was lost; please start again'],
  PROVIDER_REJECTED: ['认证服务拒绝了本次请求，请核对信息', 'The verification service refused the request; please check the details'],
  PROVIDER_UNAVAILABLE: ['认证服务暂时不可用，请稍后重试', 'The verification service is unavailable; please try again later'],
  FACE_CHECK_UNSUPPORTED: ['该证件暂不支持人脸认证', 'A face check is not available for this document'],
  INVALID_FACE_IMAGE: ['人脸图片无效，请重新拍摄', 'The face image is not valid; please take it again'],
  FACE_IMAGE_TOO_LARGE: ['人脸图片过大', 'The face image is too large'],
  BODY_TOO_LARGE: ['提交的数据过大', 'The request is too large'],
  RATE_LIMITED: ['请求过于频繁，请稍后再试', 'Too many requests; please try again later'],
  IDEMPOTENCY_KEY_REUSED: ['重复的请求，请刷新页面后重试', 'A repeated request; reload the page and try again'],
  UNAUTHORIZED: ['登录状态已失效，请重新登录', 'You are not signed in; please sign in again'],
  INVALID_TOKEN: ['登录状态已过期，请刷新页面后重试', 'Your session has expired; reload the page and try again'],
  INVALID_API_KEY: ['服务配置错误（API 密钥无效）', 'Service misconfigured (invalid API key)'],
  API_KEY_REQUIRED: ['该操作须由平台服务端发起', 'This call must come from the platform backend'],
  USER_TOKEN_REQUIRED: ['该操作须由本人登录后发起（需要用户凭证）', "This call needs the person's own user token, not an API key"],
  FORBIDDEN: ['无权执行该操作', 'You are not allowed to do this'],
  NOT_FOUND: ['未找到认证记录', 'No such verification'],
  USER_NOT_FOUND: ['未找到该用户的认证记录', 'No verification for this user'],
  INVALID_REQUEST: ['请求参数不正确', 'The request is not valid'],
  INVALID_JSON: ['请求格式不正确', 'The request is not valid JSON'],
  UNSUPPORTED_MEDIA_TYPE: ['请求格式不正确', 'The request has the wrong content type'],
  INVALID_CALLBACK: ['回调参数不正确', 'The callback is not valid'],
  INTERNAL: ['服务内部错误，请稍后重试', 'Internal error; please try again later'],
  NETWORK: ['网络连接失败，请检查网络后重试', 'Network error; please check your connection'],
  TIMEOUT: ['认证超时，请重新发起', 'The verification timed out; please start again'],
  REQUEST_TIMEOUT: ['网络请求超时，请稍后重试', 'The request timed out; please try again'],
  TOKEN: ['无法获取认证凭证，请刷新页面后重试', 'Could not get a user token; reload the page and try again'],
  BAD_RESPONSE: ['服务返回了无法识别的结果', 'The service sent an answer the SDK does not understand'],
  USER: ['您已取消实名认证', 'You cancelled the verification'],
  PROVIDER: ['实名认证已取消', 'The verification was cancelled'],
  BUSY: ['已有一次认证正在进行', 'A verification is already in progress'],
  HTTP: ['服务暂时不可用（HTTP %s），请稍后重试', 'The service answered HTTP %s; please try again later'],
};

const TEXT = {
  title: ['实名认证', 'Identity verification'],
  close: ['关闭', 'Close'],
  frame: ['人脸识别认证页面', 'Face verification page'],
  idEmpty: ['请输入身份证号码', 'Please enter the ID card number'],
  idLength: ['身份证号码应为18位', 'The ID card number must have 18 characters'],
  idRegion: ['身份证号码的地区码不正确', 'The region code of the ID card number is not valid'],
  idDate: ['身份证号码中的出生日期不正确', 'The birth date in the ID card number is not valid'],
  idCheck: ['身份证号码校验位不正确，请检查是否输错', 'The check character of the ID card number is wrong; please check for a typo'],
  nameEmpty: ['请输入姓名', 'Please enter the name'],
  nameLength: ['姓名长度应为2到32个字', 'The name must have 2 to 32 characters'],
  nameChars: ['姓名只能包含汉字、字母和间隔号“·”', 'The name may contain only Chinese characters, letters and the middle dot "·"'],
  nameSep: ['姓名中的间隔号、空格或连字符位置不正确', 'A middle dot, space or hyphen in the name is misplaced'],
};

const langIndex = (lang) => (lang === 'en' ? 1 : 0);

function message(code, lang, httpStatus) {
  const i = langIndex(lang);
  const m = MESSAGES[code];
  if (m) return m[i];
  if (/^HTTP_\d+$/.test(code || '')) return MESSAGES.HTTP[i].replace('%s', code.slice(5));
  if (httpStatus) return MESSAGES.HTTP[i].replace('%s', String(httpStatus));
  return MESSAGES.INTERNAL[i];
}

// ---- client-side checks, the same rules as internal/idnum ----

const PROVINCES = new Set([11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37,
  41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65]);
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = '10X98765432';

// isSpace is Go's unicode.IsSpace.
const isSpace = (r) => /^[\t\n\v\f\r \u0085\u00a0]$/.test(r) || /^\p{Z}$/u.test(r);

function normalizeNumber(s) {
  let out = '';
  for (const ch of String(s)) {
    let c = ch.codePointAt(0);
    if (c >= 0xff01 && c <= 0xff5e) c -= 0xfee0;
    const r = String.fromCodePoint(c);
    if (isSpace(r) || c === 0x2d || c === 0x2212 || (c >= 0x2010 && c <= 0x2015)) continue;
    out += r === 'x' ? 'X' : r;
  }
  return out;
}

function checkChar(body) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (body.charCodeAt(i) - 48) * WEIGHTS[i];
  return CHECK_CHARS[sum % 11];
}

function validDate(y, m, d) {
  if (m < 1 || m > 12 || d < 1 || y < 1800) return false;
  const days = [31, (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (d > days[m - 1]) return false;
  const now = new Date();
  const today = now.getFullYear() * 10000 + (now.getMonth() + 1) * 100 + now.getDate();
  return y * 10000 + m * 100 + d <= today;
}

function idResult(ok, key, lang, value) {
  const i = langIndex(lang);
  if (ok) return { ok: true, code: '', message: '', value };
  return { ok: false, code: 'INVALID_ID_NUMBER', message: TEXT[key][i], reason: key };
}

function validateIdNumber(s, lang) {
  const raw = s == null ? '' : String(s);
  if (new TextEncoder().encode(raw).length > 64) return idResult(false, 'idLength', lang);
  const v = normalizeNumber(raw);
  if (v === '') return idResult(false, 'idEmpty', lang);
  let n = v;
  if (/^\d{15}$/.test(v)) { // legacy 15-digit number: the server converts it
    const c = Number(v.slice(12, 15)) >= 996 ? '18' : '19';
    if (!PROVINCES.has(Number(v.slice(0, 2)))) return idResult(false, 'idRegion', lang);
    n = v.slice(0, 6) + c + v.slice(6);
    if (!validDate(Number(n.slice(6, 10)), Number(n.slice(10, 12)), Number(n.slice(12, 14)))) return idResult(false, 'idDate', lang);
    return idResult(true, '', lang, n + checkChar(n));
  }
  if (!/^\d{17}[\dX]$/.test(v)) return idResult(false, 'idLength', lang);
  if (!PROVINCES.has(Number(v.slice(0, 2)))) return idResult(false, 'idRegion', lang);
  if (!validDate(Number(v.slice(6, 10)), Number(v.slice(10, 12)), Number(v.slice(12, 14)))) return idResult(false, 'idDate', lang);
  if (checkChar(v.slice(0, 17)) !== v[17]) return idResult(false, 'idCheck', lang);
  return idResult(true, '', lang, v);
}

const MIDDLE_DOT = '·';
const isHan = (r) => /\p{Script=Han}/u.test(r);
const isLatinLetter = (r) => /^[A-Za-z]$/.test(r) || (r.codePointAt(0) >= 0x80 && /\p{Script=Latin}/u.test(r) && /\p{L}/u.test(r));
const isSep = (r) => r === ' ' || r === MIDDLE_DOT || r === '-' || r === "'";

function normalizeName(s) {
  const rs = [];
  const chars = Array.from(String(s));
  while (chars.length && isSpace(chars[0])) chars.shift();
  while (chars.length && isSpace(chars[chars.length - 1])) chars.pop();
  for (const ch of chars) {
    const c = ch.codePointAt(0);
    if (c === 0x00b7 || c === 0x30fb || c === 0x2022 || c === 0x2027 || c === 0xff0e) rs.push(MIDDLE_DOT);
    else if (c >= 0xff01 && c <= 0xff5e) rs.push(String.fromCodePoint(c - 0xfee0));
    else if (/\p{Zs}/u.test(ch)) rs.push(' ');
    else rs.push(ch);
  }
  const neighbour = (i, dir) => {
    for (i += dir; i >= 0 && i < rs.length; i += dir) if (rs[i] !== ' ') return rs[i];
    return '';
  };
  for (let i = 0; i < rs.length; i++) {
    if (rs[i] === '.' && isHan(neighbour(i, -1)) && isHan(neighbour(i, 1))) rs[i] = MIDDLE_DOT;
  }
  let out = '';
  for (let i = 0; i < rs.length; i++) {
    if (rs[i] !== ' ') { out += rs[i]; continue; }
    let j = i;
    while (j < rs.length && rs[j] === ' ') j++;
    if (i === 0 || j === rs.length) { i = j - 1; continue; }
    const prev = rs[i - 1];
    const next = rs[j];
    i = j - 1;
    if ([MIDDLE_DOT, '-', "'"].includes(prev) || [MIDDLE_DOT, '-', "'"].includes(next) || (isHan(prev) && isHan(next))) continue;
    out += ' ';
  }
  return out;
}

function nameResult(ok, key, lang, value) {
  if (ok) return { ok: true, code: '', message: '', value };
  return { ok: false, code: 'INVALID_NAME', message: TEXT[key][langIndex(lang)], reason: key };
}

function validateName(s, lang) {
  const raw = s == null ? '' : String(s);
  if (new TextEncoder().encode(raw).length > 256) return nameResult(false, 'nameLength', lang);
  if (/[\uD800-\uDFFF]/.test(raw.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))) return nameResult(false, 'nameChars', lang);
  const v = normalizeName(raw);
  if (v === '') return nameResult(false, 'nameEmpty', lang);
  let n = 0;
  let prev = '';
  for (const r of v) {
    n++;
    if (isHan(r) || isLatinLetter(r)) {
      // fine
    } else if (isSep(r)) {
      if (prev === '' || isSep(prev)) return nameResult(false, 'nameSep', lang);
    } else {
      return nameResult(false, 'nameChars', lang);
    }
    prev = r;
  }
  if (isSep(prev)) return nameResult(false, 'nameSep', lang);
  if (n < 2 || n > 32) return nameResult(false, 'nameLength', lang);
  return nameResult(true, '', lang, v);
}

// ---- environment ----

const IN_APP_UA = /MicroMessenger|\bQQ\/|MQQBrowser|AlipayClient|DingTalk|Weibo|; wv\)|\bwv\b/i;
const MOBILE_UA = /Android|iPhone|iPad|iPod|Mobile|HarmonyOS|IEMobile|Opera Mini/i;

function isMobileEnvironment() {
  if (typeof window === 'undefined') return false;
  const ua = (navigator && navigator.userAgent) || '';
  if (IN_APP_UA.test(ua) || MOBILE_UA.test(ua)) return true;
  return !!(window.matchMedia && window.matchMedia('(max-width: 768px)').matches);
}

function storage() {
  try { return window.sessionStorage; } catch (e) { return null; }
}

let stylesheetAdded = false;
function addStylesheet() {
  if (stylesheetAdded || typeof document === 'undefined') return;
  stylesheetAdded = true;
  const href = new URL('realname.css', scriptUrl).href;
  if (document.querySelector('link[data-realname-sdk]')) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  link.setAttribute('data-realname-sdk', '');
  document.head.appendChild(link);
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

const FINAL = new Set(['success', 'failed', 'expired', 'cancelled']);
const RETRYABLE = (e) => e.reason === 'NETWORK' || e.code === 'REQUEST_TIMEOUT' || e.httpStatus === 429 ||
  e.httpStatus === 408 || (e.httpStatus >= 500) || e.code === 'BAD_RESPONSE';

class RealnameAuth {
  constructor(options = {}) {
    const o = options || {};
    if (typeof o.getToken !== 'function') throw new TypeError('RealnameAuth: options.getToken (async () => token) is required');
    this.options = {
      apiBase: String(o.apiBase || new URL('/', scriptUrl).href).replace(/\/+$/, ''),
      getToken: o.getToken,
      lang: o.lang === 'en' ? 'en' : 'zh',
      mode: ['overlay', 'redirect'].includes(o.mode) ? o.mode : 'auto',
      returnUrl: o.returnUrl || (typeof location !== 'undefined' ? location.href : ''),
      pollInterval: o.pollInterval > 0 ? o.pollInterval : 3000,
      pollMaxInterval: o.pollMaxInterval > 0 ? o.pollMaxInterval : 15000,
      timeout: o.timeout > 0 ? o.timeout : 10 * 60 * 1000,
      requestTimeout: o.requestTimeout > 0 ? o.requestTimeout : 15000,
    };
    this._handlers = new Map();
    this._token = null;
    // Set when the person gave up on a face check that is still open at
    // realname (cancel(), the time limit): the next initAuth asks for a new
    // one ("restart"), as the old provider page may not open again.
    this._restartNext = false;
    this._session = null; // {certifyId, userId, abort, timer, deadlineTimer, interval, done}
    this._overlay = null;
  }

  // ---- events ----

  on(event, fn) {
    if (typeof fn !== 'function') return () => {};
    if (!this._handlers.has(event)) this._handlers.set(event, new Set());
    this._handlers.get(event).add(fn);
    return () => { const s = this._handlers.get(event); if (s) s.delete(fn); };
  }

  _emit(event, detail) {
    const fns = this._handlers.get(event);
    if (!fns) return;
    for (const fn of Array.from(fns)) {
      try {
        fn(detail);
      } catch (e) {
        // A handler's own bug must not break the SDK; report it where
        // developers look, without an unhandled rejection.
        setTimeout(() => { throw e; });
      }
    }
  }

  _error(code, extra = {}) {
    const lang = this.options.lang;
    const reason = extra.reason || code;
    return { reason, code, message: extra.message || message(code, lang, extra.httpStatus), ...(extra.httpStatus ? { httpStatus: extra.httpStatus } : {}), ...(extra.retryAfter ? { retryAfter: extra.retryAfter } : {}) };
  }

  // ---- HTTP ----

  async _getToken(refresh) {
    if (this._token && !refresh) return this._token;
    let t;
    try {
      t = await this.options.getToken();
    } catch (e) {
      throw this._error('TOKEN');
    }
    if (t && typeof t === 'object' && t.token) t = t.token;
    if (typeof t !== 'string' || t === '') throw this._error('TOKEN');
    this._token = t;
    return t;
  }

  // _request resolves the JSON answer of a 2xx, or throws an error object
  // {reason, code, message, httpStatus?, retryAfter?}. It never throws
  // anything else. A public request (the notice texts) carries no token and
  // may be answered from the browser's cache.
  async _request(method, path, body, signal, retried, isPublic) {
    const token = isPublic ? '' : await this._getToken(false);
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; ctl.abort(); }, this.options.requestTimeout);
    const onAbort = () => ctl.abort();
    if (signal) {
      if (signal.aborted) ctl.abort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
    let res;
    let data = null;
    try {
      res = await fetch(this.options.apiBase + path, {
        method,
        headers: Object.assign(isPublic ? { Accept: 'application/json' } : { Authorization: 'Bearer ' + token, Accept: 'application/json' },
          body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: ctl.signal,
        credentials: 'omit',
        cache: isPublic ? 'default' : 'no-store',
      });
      try { data = await res.json(); } catch (e) { data = null; }
    } catch (e) {
      if (timedOut) throw this._error('REQUEST_TIMEOUT', { reason: 'TIMEOUT' });
      if (signal && signal.aborted) throw this._error('CANCELLED', { reason: 'ABORTED' });
      throw this._error('NETWORK');
    } finally {
      clearTimeout(timer);
      if (signal) signal.removeEventListener('abort', onAbort);
    }
    if (res.ok && data && data.success !== false) return data;
    const retryAfter = Number(res.headers.get('Retry-After')) || undefined;
    let code = data && typeof data.code === 'string' && data.code ? data.code : '';
    if (!code) code = res.ok ? 'BAD_RESPONSE' : res.status === 429 ? 'RATE_LIMITED' : res.status === 503 ? 'PROVIDER_UNAVAILABLE' : 'HTTP_' + res.status;
    if (res.status === 401 && code === 'INVALID_TOKEN' && !retried && !isPublic) {
      // The short-lived token expired: mint a new one and try once more.
      this._token = null;
      return this._request(method, path, body, signal, true);
    }
    throw this._error(code, { httpStatus: res.ok ? undefined : res.status, retryAfter, message: undefined });
  }

  // ---- public API ----

  static messages(code, lang) {
    return message(code, lang === 'en' ? 'en' : 'zh');
  }

  static validateIdNumber(s, lang) {
    return validateIdNumber(s, lang);
  }

  static validateName(s, lang) {
    return validateName(s, lang);
  }

  static isMobile() {
    return isMobileEnvironment();
  }

  // resolveMode tells how initAuth opens verify_url here: 'overlay' or
  // 'redirect'.
  resolveMode() {
    if (this.options.mode !== 'auto') return this.options.mode;
    return isMobileEnvironment() ? 'redirect' : 'overlay';
  }

  async initAuth(params = {}) {
    try {
      return await this._initAuth(params || {});
    } catch (e) {
      const err = e && e.reason ? e : this._error('INTERNAL', { message: String((e && e.message) || e) });
      this._emit('autherror', err);
      return null;
    }
  }

  async _initAuth(p) {
    const lang = this.options.lang;
    if (this._session && !this._session.done) throw this._error('BUSY');
    const certType = p.certType || 'IDENTITY_CARD';
    if (!p.userId) throw this._error('INVALID_REQUEST');
    const name = validateName(p.realName, lang);
    if (!name.ok) throw { reason: 'INVALID_NAME', code: 'INVALID_NAME', message: name.message };
    if (certType === 'IDENTITY_CARD') {
      const id = validateIdNumber(p.idCardNumber, lang);
      if (!id.ok) throw { reason: 'INVALID_ID_NUMBER', code: 'INVALID_ID_NUMBER', message: id.message };
    }
    const c = p.consent;
    if (!c || !c.notice_version || !c.accepted_at || !Array.isArray(c.scopes) ||
        !c.scopes.includes('id_number') || !c.scopes.includes('face')) {
      throw this._error('CONSENT_REQUIRED');
    }
    const mode = this.resolveMode();
    const body = {
      user_id: String(p.userId),
      real_name: p.realName,
      id_card_number: p.idCardNumber,
      consent: { notice_version: c.notice_version, accepted_at: c.accepted_at, scopes: c.scopes.slice() },
      cert_type: certType,
    };
    if (p.restart === true || (p.restart !== false && this._restartNext)) body.restart = true;
    if (mode === 'redirect' && this.options.returnUrl) body.return_url = this.options.returnUrl;
    const data = await this._request('POST', API + '/init', body);
    if (!data.certify_id || !data.verify_url) throw this._error('BAD_RESPONSE');
    this._restartNext = false;
    const result = { certifyId: data.certify_id, verifyUrl: data.verify_url };
    const st = storage();
    if (st) {
      try {
        st.setItem(STORAGE_KEY, JSON.stringify({ certifyId: result.certifyId, userId: body.user_id, deadline: Date.now() + this.options.timeout }));
      } catch (e) { /* private mode: resume() will find nothing */ }
    }
    this._startPolling(result.certifyId, Date.now() + this.options.timeout);
    this._emit('authinit', result);
    if (this._session && !this._session.done) {
      if (mode === 'redirect') this._redirect(result.verifyUrl);
      else this._openOverlay(result.verifyUrl);
    }
    return result;
  }

  _redirect(url) {
    window.location.assign(url);
  }

  resume() {
    const st = storage();
    if (!st) return false;
    let saved = null;
    try { saved = JSON.parse(st.getItem(STORAGE_KEY) || 'null'); } catch (e) { saved = null; }
    if (!saved || !saved.certifyId) return false;
    if (!(saved.deadline > Date.now())) {
      this._clearStorage();
      return false;
    }
    if (this._session && !this._session.done && this._session.certifyId === saved.certifyId) return true;
    this._startPolling(saved.certifyId, saved.deadline);
    return true;
  }

  // clearToken forgets the cached user token. Call it when the person
  // signs out or another person signs in: a token acts only for its own
  // user, and the next request asks getToken for a new one.
  clearToken() {
    this._token = null;
    this._restartNext = false;
  }

  cancel() {
    const active = (this._session && !this._session.done) || this._overlay;
    this._stop();
    this._clearStorage();
    if (active) this._restartNext = true;
    if (active) this._emit('authcancel', { reason: 'USER', message: message('USER', this.options.lang) });
  }

  async checkAuthStatus(userId) {
    return this._call('GET', API + '/status/' + encodeURIComponent(String(userId == null ? '' : userId)));
  }

  async quickVerify(userId, faceImage) {
    const body = { user_id: String(userId == null ? '' : userId) };
    if (faceImage) body.face_image = faceImage;
    return this._call('POST', API + '/verify', body);
  }

  // getNotice fetches the text of the consent notice to show before
  // initAuth: a version ('current' by default) in a language ('zh' or 'en';
  // the SDK's by default). It needs no user token. It resolves the notice
  // {version, lang, title, sections: [{heading, text}], consents: {id_number,
  // face}, sha256}, or null after emitting autherror (whose detail has
  // call: 'getNotice', as it ends no verification).
  async getNotice(version = 'current', lang) {
    const l = lang || this.options.lang;
    const path = API + '/notices/' + encodeURIComponent(String(version || 'current')) + '?lang=' + encodeURIComponent(String(l));
    try {
      const data = await this._request('GET', path, undefined, undefined, false, true);
      const n = data.notice;
      if (!n || typeof n.version !== 'string' || typeof n.title !== 'string' || !Array.isArray(n.sections) ||
          !n.consents || typeof n.consents.id_number !== 'string' || typeof n.consents.face !== 'string' ||
          typeof n.sha256 !== 'string') {
        throw this._error('BAD_RESPONSE');
      }
      return n;
    } catch (e) {
      const err = e && e.reason ? e : this._error('INTERNAL');
      this._emit('autherror', { ...err, call: 'getNotice' });
      return null;
    }
  }

  // ---- the person's rights (/me): the user token only ----

  // getMyData fetches everything realname holds about the person the user
  // token names (GET /api/v1/auth/me/data): {user_id, standing, identities,
  // verifications, reviews, access_records, exported_at}, the name and ID
  // number decrypted. It resolves that object, or null after emitting
  // autherror (call: 'getMyData').
  async getMyData() {
    return this._rights('getMyData', 'GET', API + '/me/data', (d) => (isObject(d.data) ? d.data : undefined));
  }

  // getMyConsents lists the consents the person gave, newest first (GET
  // /api/v1/auth/me/consents): an array of {certify_id, evidence, status,
  // consent: {notice_version, accepted_at, scopes, recorded_at,
  // withdrawn_at?, guardian?}}, or null after emitting autherror (call:
  // 'getMyConsents').
  async getMyConsents() {
    return this._rights('getMyConsents', 'GET', API + '/me/consents', (d) => (Array.isArray(d.consents) ? d.consents : undefined));
  }

  // withdrawConsent withdraws every consent the person gave (POST
  // /api/v1/auth/me/consents/withdraw, no body): open sessions stop, the
  // verified standing ends and what the consents covered is erased. It
  // resolves the erasure report {user_id, pseudonym, sessions_cancelled,
  // persons_erased, provider_deletions, sessions_kept, consents_withdrawn,
  // nothing_held, erased_at}, or null after emitting autherror (call:
  // 'withdrawConsent').
  async withdrawConsent() {
    return this._rights('withdrawConsent', 'POST', API + '/me/consents/withdraw', (d) => (isObject(d.erasure) ? d.erasure : undefined));
  }

  // eraseMyData erases everything realname holds about the person (DELETE
  // /api/v1/auth/me). It resolves the erasure report, as withdrawConsent,
  // or null after emitting autherror (call: 'eraseMyData').
  async eraseMyData() {
    return this._rights('eraseMyData', 'DELETE', API + '/me', (d) => (isObject(d.erasure) ? d.erasure : undefined));
  }

  // _rights makes one call of the person's rights. Like every call outside
  // polling it is not repeated after a network error or a 5xx (a
  // withdrawal or an erasure may have happened); only a 401 INVALID_TOKEN,
  // refused before anything was done, is tried once more with a new token.
  async _rights(call, method, path, pick) {
    try {
      const v = pick(await this._request(method, path));
      if (v === undefined) throw this._error('BAD_RESPONSE');
      return v;
    } catch (e) {
      const err = e && e.reason ? e : this._error('INTERNAL');
      this._emit('autherror', { ...err, call });
      return null;
    }
  }

  async _call(method, path, body) {
    try {
      return await this._request(method, path, body);
    } catch (e) {
      const err = e && e.reason ? e : this._error('INTERNAL');
      return { success: false, ...err };
    }
  }

  // ---- polling ----

  _startPolling(certifyId, deadline) {
    this._stop();
    const s = { certifyId, abort: new AbortController(), timer: 0, deadlineTimer: 0, interval: this.options.pollInterval, done: false };
    this._session = s;
    s.deadlineTimer = setTimeout(() => {
      if (s.done) return;
      this._finish(s);
      this._restartNext = true;
      this._emit('autherror', this._error('TIMEOUT'));
    }, Math.max(0, deadline - Date.now()));
    s.timer = setTimeout(() => this._tick(s), s.interval);
  }

  async _tick(s) {
    if (s.done) return;
    let data = null;
    let err = null;
    try {
      data = await this._request('POST', API + '/query', { certify_id: s.certifyId }, s.abort.signal);
    } catch (e) {
      err = e && e.reason ? e : this._error('INTERNAL');
    }
    if (s.done) return;
    if (err) {
      if (!RETRYABLE(err)) {
        this._finish(s);
        this._emit('autherror', err);
        return;
      }
      s.interval = Math.min(s.interval * 2, this.options.pollMaxInterval);
      const wait = err.retryAfter ? Math.max(s.interval, err.retryAfter * 1000) : s.interval;
      s.timer = setTimeout(() => this._tick(s), wait);
      return;
    }
    s.interval = this.options.pollInterval;
    const status = String(data.status || '');
    if (!FINAL.has(status)) {
      s.timer = setTimeout(() => this._tick(s), s.interval);
      return;
    }
    this._finish(s);
    const lang = this.options.lang;
    if (status === 'success') {
      this._emit('authsuccess', data);
    } else if (status === 'cancelled') {
      this._emit('authcancel', { reason: 'PROVIDER', message: message('PROVIDER', lang), status: data });
    } else {
      const code = data.fail_reason || data.reason || status.toUpperCase();
      this._emit('authfail', { reason: code, code, message: message(code, lang), status: data });
    }
  }

  _finish(s) {
    s.done = true;
    clearTimeout(s.timer);
    clearTimeout(s.deadlineTimer);
    s.abort.abort();
    this._closeOverlay();
    this._clearStorage();
  }

  _stop() {
    if (this._session && !this._session.done) {
      const s = this._session;
      s.done = true;
      clearTimeout(s.timer);
      clearTimeout(s.deadlineTimer);
      s.abort.abort();
    }
    this._closeOverlay();
  }

  _clearStorage() {
    const st = storage();
    if (st) { try { st.removeItem(STORAGE_KEY); } catch (e) { /* ignore */ } }
  }

  // ---- overlay ----

  _openOverlay(url) {
    this._closeOverlay();
    addStylesheet();
    const i = langIndex(this.options.lang);
    const previous = document.activeElement;
    const root = document.createElement('div');
    root.className = 'realname-overlay';
    root.setAttribute('role', 'dialog');
    root.setAttribute('aria-modal', 'true');
    const titleId = 'realname-title-' + Math.random().toString(36).slice(2);
    root.setAttribute('aria-labelledby', titleId);
    // The essentials by CSSOM (allowed by a strict CSP), so the overlay
    // covers the page even before realname.css has loaded.
    Object.assign(root.style, { position: 'fixed', top: '0', left: '0', right: '0', bottom: '0', zIndex: '2147483000' });

    const box = document.createElement('div');
    box.className = 'realname-overlay__box';
    const head = document.createElement('div');
    head.className = 'realname-overlay__head';
    const title = document.createElement('h2');
    title.className = 'realname-overlay__title';
    title.id = titleId;
    title.textContent = TEXT.title[i];
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'realname-overlay__close';
    close.setAttribute('aria-label', TEXT.close[i]);
    close.textContent = '×';
    close.addEventListener('click', () => this.cancel());
    head.append(title, close);
    const frame = document.createElement('iframe');
    frame.className = 'realname-overlay__frame';
    frame.setAttribute('allow', 'camera; microphone');
    frame.title = TEXT.frame[i];
    frame.src = url;
    box.append(head, frame);
    root.appendChild(box);

    const onKey = (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        this.cancel();
      } else if (e.key === 'Tab') {
        // Focus stays in the dialog: the close button and the frame.
        const items = [close, frame];
        const at = items.indexOf(document.activeElement);
        e.preventDefault();
        const next = e.shiftKey ? (at <= 0 ? items.length - 1 : at - 1) : (at + 1) % items.length;
        items[next].focus();
      }
    };
    const onFocus = (e) => {
      if (!root.contains(e.target)) close.focus();
    };
    document.addEventListener('keydown', onKey, true);
    document.addEventListener('focusin', onFocus, true);
    document.documentElement.classList.add('realname-overlay-open');
    document.body.appendChild(root);
    close.focus();
    this._overlay = {
      root,
      remove: () => {
        document.removeEventListener('keydown', onKey, true);
        document.removeEventListener('focusin', onFocus, true);
        document.documentElement.classList.remove('realname-overlay-open');
        root.remove();
        if (previous && typeof previous.focus === 'function') {
          try { previous.focus(); } catch (e) { /* ignore */ }
        }
      },
    };
  }

  _closeOverlay() {
    if (!this._overlay) return;
    const o = this._overlay;
    this._overlay = null;
    o.remove();
  }
}

export default RealnameAuth;
