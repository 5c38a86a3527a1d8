// The platform demo (家书): how a letter-writing platform uses the realname
// SDK in the browser. The platform's own backend (/demo/api/, package
// internal/demo) signs the person in, mints their short-lived user token and
// checks the verification again before it sends a letter; the API key never
// reaches this page.
import RealnameAuth from '/sdk/realname.js';

const $ = (id) => document.getElementById(id);
const el = {
  signedOut: $('signed-out'), signedIn: $('signed-in'), signin: $('signin'), signout: $('signout'),
  userId: $('user-id'), accountError: $('account-error'),
  statusCard: $('status-card'), statusTitle: $('status-title'), status: $('status'), statusDetail: $('status-detail'),
  progress: $('progress'), stopWaiting: $('stop-waiting'),
  verifyCard: $('verify-card'), form: $('verify-form'), name: $('real-name'), nameMsg: $('real-name-msg'),
  idNumber: $('id-number'), idMsg: $('id-number-msg'), next: $('next'),
  consent: $('consent'), consentTitle: $('consent-title'), consentId: $('consent-id'), consentFace: $('consent-face'),
  consentMsg: $('consent-msg'), start: $('start'), back: $('back'), verifyError: $('verify-error'),
  notice: $('notice'), noticeLoading: $('notice-loading'), noticeMeta: $('notice-meta'), noticeError: $('notice-error'),
  noticeErrorText: $('notice-error-text'), noticeRetry: $('notice-retry'),
  consentIdLabel: $('consent-id-label'), consentChecks: $('consent-checks'), consentFaceLabel: $('consent-face-label'),
  letterCard: $('letter-card'), letterForm: $('letter-form'), letter: $('letter'), letterMsg: $('letter-msg'),
  letterCount: $('letter-count'), send: $('send'),
  mydataCard: $('mydata-card'), mydataShow: $('mydata-show'), mydataWithdraw: $('mydata-withdraw'),
  mydataErase: $('mydata-erase'), mydataConfirm: $('mydata-confirm'), mydataConfirmText: $('mydata-confirm-text'),
  mydataConfirmYes: $('mydata-confirm-yes'), mydataConfirmNo: $('mydata-confirm-no'), mydataMsg: $('mydata-msg'),
  mydataExport: $('mydata-export'),
};

// Messages for codes the SDK might not know (the demo backend's own codes
// arrive with a Chinese `error` text and are shown as they are).
const FALLBACK = {
  NETWORK: '网络连接失败，请检查网络后重试。',
  REQUIRED_NAME: '请填写姓名。',
  REQUIRED_ID: '请填写身份证号码。',
};

// message turns an error code into a Chinese sentence for the person.
function message(code, fallback) {
  let m = '';
  try {
    m = RealnameAuth.messages(code, 'zh') || '';
  } catch {
    m = '';
  }
  return m || FALLBACK[code] || fallback || '出现了问题，请稍后再试。';
}

const hasHan = (s) => typeof s === 'string' && /[\u4e00-\u9fff]/.test(s);

// --- the platform's backend ---

async function api(path, body, method = 'POST') {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (method === 'POST') {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body || {});
  }
  let resp;
  try {
    resp = await fetch('/demo/api/' + path, init);
  } catch {
    return { ok: false, status: 0, data: { code: 'NETWORK', error: FALLBACK.NETWORK } };
  }
  let data = {};
  try {
    data = await resp.json();
  } catch {
    data = { code: 'BAD_ANSWER', error: '服务器的回答无法识别，请稍后再试。' };
  }
  return { ok: resp.ok, status: resp.status, data };
}

let cachedToken = null;

// getToken gives the SDK a user token for the signed-in person, minted by
// the platform's backend and reused until a minute before it expires.
async function getToken() {
  if (cachedToken && Date.parse(cachedToken.expires_at) - Date.now() > 60_000) {
    return cachedToken.token;
  }
  const r = await api('token', {});
  if (!r.ok) {
    if (r.status === 401) showSignedOut('登录已过期，请重新登录。');
    const err = new Error(r.data.error || '无法获取认证凭证');
    err.code = r.data.code;
    throw err;
  }
  cachedToken = r.data;
  return cachedToken.token;
}

const auth = new RealnameAuth({ getToken, lang: 'zh' });

// --- state and the status line ---

let userId = null;
let verified = false;
let sdkBusy = 0; // initAuth or resume running (the SDK polls)
let pollTimer = null; // our own polling while a session is open

let waiting = false; // the SDK polls a session (from authinit or resume() to its end)
let closedByPerson = false; // the person closed the provider's page; the session stays open there until it times out

function setBusy() {
  const pending = el.status.dataset.state === 'pending';
  const busy = waiting || pollTimer !== null || (sdkBusy > 0 && pending);
  el.progress.classList.toggle('busy', busy);
  // One face check at a time: no second start while the SDK follows one;
  // and none before the notice is shown.
  el.start.disabled = !notice || waiting || sdkBusy > 0;
  el.progress.setAttribute('aria-hidden', busy ? 'false' : 'true');
  el.statusCard.setAttribute('aria-busy', busy ? 'true' : 'false');
}

function dateOf(t) {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

function setStatus(state, text, detail = '') {
  el.status.dataset.state = state;
  el.stopWaiting.classList.toggle('on', state === 'pending');
  if (el.status.textContent !== text) el.status.textContent = text;
  if (el.statusDetail.textContent !== detail) el.statusDetail.textContent = detail;
}

// renderStatus shows a status answer of the SDK (checkAuthStatus or the
// authsuccess event) and decides what the person can do next.
function renderStatus(ans) {
  const wasVerified = verified;
  verified = false;
  let open = false;
  if (!ans || ans.success === false) {
    if (ans && ans.code === 'USER_NOT_FOUND') {
      setStatus('unverified', '未认证', '您还没有进行实名认证。');
    } else {
      setStatus('unknown', '暂时无法查询认证状态', message(ans && ans.code, ans && ans.reason));
    }
  } else if (ans.status === 'success' && ans.is_valid) {
    verified = true;
    const until = dateOf(ans.expire_time);
    setStatus('verified', until ? `已认证，有效期至 ${until}` : '已认证',
      ans.real_name ? `认证姓名：${ans.real_name}` : '');
  } else if ((ans.status === 'pending' || ans.status === 'processing') && closedByPerson) {
    setStatus('unverified', '未认证', '您关闭了人脸核验页面，可以随时重新开始。');
  } else if (ans.status === 'pending' || ans.status === 'processing') {
    open = true;
    setStatus('pending', '认证中', '请在打开的页面完成人脸核验，完成后这里会自动更新。');
  } else if (ans.status === 'failed') {
    setStatus('unverified', '未认证', '上次认证没有通过，您可以重新认证。');
  } else if (ans.status === 'cancelled') {
    setStatus('unverified', '未认证', '上次认证已取消或超时，您可以重新认证。');
  } else if (ans.status === 'expired' || ans.status === 'success') {
    setStatus('unverified', '认证已过期', '请重新进行实名认证。');
  } else {
    setStatus('unverified', '未认证', '');
  }
  el.verifyCard.hidden = verified;
  if (verified && !wasVerified && !el.letterMsg.classList.contains('sent')) el.letterMsg.textContent = '';
  if (open) schedulePoll();
  setBusy();
}

async function refreshStatus() {
  if (!userId) return;
  let ans;
  try {
    ans = await auth.checkAuthStatus(userId);
  } catch (e) {
    ans = { success: false, code: e && e.code, reason: e && e.message };
  }
  if (userId) renderStatus(ans);
}

// schedulePoll keeps the status fresh while a session is open and the SDK
// is not polling it itself (after a desktop reload, say).
function schedulePoll() {
  if (pollTimer !== null || sdkBusy > 0 || waiting) return;
  pollTimer = setTimeout(async () => {
    await refreshStatus();
    pollTimer = null;
    if (el.status.dataset.state === 'pending') schedulePoll();
    setBusy();
  }, 2000);
  setBusy();
}

function stopPoll() {
  if (pollTimer !== null) clearTimeout(pollTimer);
  pollTimer = null;
  setBusy();
}

async function whileSDK(promise) {
  sdkBusy++;
  stopPoll();
  setBusy();
  try {
    await promise;
  } catch {
    // The SDK reports through its events; nothing more to say here.
  } finally {
    sdkBusy--;
    if (sdkBusy === 0 && el.status.dataset.state === 'pending') schedulePoll();
    setBusy();
  }
}

// --- the SDK's events ---

function showError(box, text) {
  box.textContent = text;
  box.hidden = !text;
}

auth.on('authinit', () => {
  waiting = true;
  closedByPerson = false;
  showError(el.verifyError, '');
  setStatus('pending', '认证中', '请在打开的页面完成人脸核验，完成后这里会自动更新。');
  setBusy();
});

auth.on('authsuccess', () => {
  waiting = false;
  showError(el.verifyError, '');
  closeConsent();
  // The event carries the session; the status answer has the validity.
  refreshStatus();
});

auth.on('authfail', (ev) => {
  waiting = false;
  showError(el.verifyError, message(ev && ev.code, hasHan(ev && ev.message) ? ev.message : ''));
  refreshStatus();
});

auth.on('authcancel', (ev) => {
  waiting = false;
  closedByPerson = !!ev && ev.reason === 'USER';
  showError(el.verifyError, '您取消了人脸核验，可以随时重新开始。');
  refreshStatus();
});

auth.on('autherror', (ev) => {
  if (ev && ev.call === 'getNotice') {
    noticeFailure = ev; // loadNotice says it where the notice belongs
    return;
  }
  if (ev && RIGHTS_CALLS.has(ev.call)) {
    rightsFailure = ev; // the My data section says it
    return;
  }
  waiting = false;
  const code = ev && ev.code;
  const text = message(code, hasHan(ev && ev.message) ? ev.message : '');
  if (code === 'INVALID_NAME') {
    closeConsent();
    setFieldMessage(el.name, el.nameMsg, text);
    el.name.focus();
  } else if (code === 'INVALID_ID_NUMBER') {
    closeConsent();
    setFieldMessage(el.idNumber, el.idMsg, text);
    el.idNumber.focus();
  } else if (code === 'ALREADY_AUTHENTICATED') {
    closeConsent();
    refreshStatus();
    return;
  } else {
    showError(el.verifyError, text);
  }
  refreshStatus();
});

// --- the form: instant checks with the SDK's rules (the server's rules) ---

function setFieldMessage(input, box, text) {
  box.textContent = text;
  input.setAttribute('aria-invalid', text ? 'true' : 'false');
}

function validationText(r, requiredCode) {
  if (r.code === 'REQUIRED') return FALLBACK[requiredCode];
  if (hasHan(r.message)) return r.message;
  return message(r.code, r.message);
}

function checkField(input, box, validate, requiredCode, show) {
  const v = input === el.idNumber ? input.value.trim().toUpperCase() : input.value.trim();
  const r = v ? validate(v) : { ok: false, code: 'REQUIRED' };
  if (r.ok) setFieldMessage(input, box, '');
  else if (show) setFieldMessage(input, box, validationText(r, requiredCode));
  return r.ok;
}

const checkName = (show) => checkField(el.name, el.nameMsg, (s) => RealnameAuth.validateName(s, 'zh'), 'REQUIRED_NAME', show);
const checkID = (show) => checkField(el.idNumber, el.idMsg, (s) => RealnameAuth.validateIdNumber(s, 'zh'), 'REQUIRED_ID', show);

const touched = new Set();
el.name.addEventListener('blur', () => {
  if (el.name.value.trim()) touched.add('name');
  if (touched.has('name')) checkName(true);
});
el.name.addEventListener('input', () => checkName(touched.has('name')));
el.idNumber.addEventListener('blur', () => {
  const up = el.idNumber.value.trim().toUpperCase();
  if (up !== el.idNumber.value) el.idNumber.value = up;
  if (up) touched.add('id');
  if (touched.has('id')) checkID(true);
});
el.idNumber.addEventListener('input', () => checkID(touched.has('id') || el.idNumber.value.trim().length >= 18));

el.form.addEventListener('submit', (e) => {
  e.preventDefault();
  touched.add('name');
  touched.add('id');
  el.idNumber.value = el.idNumber.value.trim().toUpperCase();
  const okName = checkName(true);
  const okID = checkID(true);
  if (!okName) {
    el.name.focus();
    return;
  }
  if (!okID) {
    el.idNumber.focus();
    return;
  }
  showError(el.verifyError, '');
  openConsent();
});

// --- the notice, as realname serves it ---

// notice is the text shown on the consent step ({version, title, sections,
// consents, sha256}, from auth.getNotice), null until it has loaded. The
// page sends its version with the consent, so what the person accepted is
// exactly what they read.
let notice = null;
let noticeFailure = null; // the autherror of the last getNotice
let noticeLoading = null; // the promise of a load under way

function renderNotice(n) {
  const title = document.createElement('h4');
  title.className = 'notice-title';
  title.textContent = n.title;
  const list = document.createElement('dl');
  list.className = 'notice';
  for (const s of n.sections) {
    const dt = document.createElement('dt');
    dt.textContent = s.heading;
    const dd = document.createElement('dd');
    dd.textContent = s.text;
    list.append(dt, dd);
  }
  el.notice.replaceChildren(title, list);
  el.notice.setAttribute('aria-busy', 'false');
  el.noticeMeta.textContent = `版本 ${n.version} · 校验值 ${n.sha256.slice(0, 12)}…`;
  el.noticeMeta.title = `SHA-256 ${n.sha256}`;
  el.noticeMeta.dataset.version = n.version;
  el.noticeMeta.dataset.sha256 = n.sha256;
  el.consentIdLabel.textContent = n.consents.id_number;
  el.consentFaceLabel.textContent = n.consents.face;
  el.consentId.disabled = false;
  el.consentFace.disabled = false;
  el.consentChecks.hidden = false;
}

// loadNotice fetches the current notice once; on failure the consent step
// says so and the start button stays disabled.
function loadNotice() {
  if (notice) return Promise.resolve(notice);
  if (noticeLoading) return noticeLoading;
  el.noticeError.hidden = true;
  el.noticeLoading.hidden = false;
  noticeFailure = null;
  noticeLoading = auth.getNotice('current', 'zh').then((n) => {
    noticeLoading = null;
    if (n) {
      notice = n;
      renderNotice(n);
    } else {
      el.noticeLoading.hidden = true;
      const why = noticeFailure ? message(noticeFailure.code) : '';
      el.noticeErrorText.textContent = '个人信息处理规则没有加载成功，暂时不能开始人脸核验。' + why;
      el.noticeError.hidden = false;
    }
    setBusy();
    return n;
  });
  return noticeLoading;
}

el.noticeRetry.addEventListener('click', () => loadNotice());

// --- consent: two separate checkboxes (PIPL Arts. 28–29) ---

function openConsent() {
  loadNotice();
  el.consentId.checked = false;
  el.consentFace.checked = false;
  el.consentMsg.textContent = '';
  el.consent.hidden = false;
  el.form.hidden = true;
  el.consentTitle.focus();
}

function closeConsent() {
  el.consent.hidden = true;
  el.form.hidden = false;
}

el.back.addEventListener('click', () => {
  closeConsent();
  el.name.focus();
});

for (const box of [el.consentId, el.consentFace]) {
  box.addEventListener('change', () => {
    if (el.consentId.checked && el.consentFace.checked) el.consentMsg.textContent = '';
  });
}

el.start.addEventListener('click', () => {
  if (!el.consentId.checked || !el.consentFace.checked) {
    el.consentMsg.textContent = !el.consentId.checked && !el.consentFace.checked
      ? '请分别勾选同意处理身份证号码和人脸信息后再继续。'
      : !el.consentId.checked ? '请勾选同意处理身份证号码。' : '请勾选同意进行人脸核验。';
    (el.consentId.checked ? el.consentFace : el.consentId).focus();
    return;
  }
  if (!notice) return; // the button is disabled until the notice is shown
  const consent = {
    notice_version: notice.version,
    accepted_at: new Date().toISOString(),
    scopes: ['id_number', 'face'],
  };
  whileSDK(auth.initAuth({
    userId, realName: el.name.value.trim(), idCardNumber: el.idNumber.value.trim().toUpperCase(), consent,
    // The person stopped waiting for an open face check: start a new one
    // (the SDK does this by itself after its own cancel or time limit).
    restart: closedByPerson ? true : undefined,
  }));
});

// Stop waiting for an open face check. A cancel on the provider's page
// sends no answer (Cloudauth does not call back for it), so without this the
// page would wait until the session times out.
el.stopWaiting.addEventListener('click', () => {
  closedByPerson = true;
  stopPoll();
  if (waiting || sdkBusy > 0) {
    auth.cancel(); // the SDK stops polling and says authcancel
  } else {
    refreshStatus();
  }
});

// --- the letter: the backend checks the verification again ---

el.letter.addEventListener('input', () => {
  const n = [...el.letter.value].length;
  el.letterCount.textContent = n ? ` 已写 ${n} 字。` : '';
  if (n) el.letter.removeAttribute('aria-invalid');
});

el.letterForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  el.letterMsg.classList.remove('sent');
  const text = el.letter.value.trim();
  if (!text) {
    el.letterMsg.textContent = '请先写下信的内容。';
    el.letter.setAttribute('aria-invalid', 'true');
    el.letter.focus();
    return;
  }
  el.send.disabled = true;
  el.letterMsg.textContent = '正在寄出…';
  const r = await api('letters', { text });
  el.send.disabled = false;
  if (r.ok && r.data.sent) {
    el.letterMsg.textContent = '信已寄出。';
    el.letterMsg.classList.add('sent');
    el.letter.value = '';
    el.letterCount.textContent = '';
    return;
  }
  if (r.status === 401) {
    showSignedOut('登录已过期，请重新登录。');
    return;
  }
  el.letterMsg.textContent = r.data.error || message(r.data.code);
  if (r.data.code === 'NOT_VERIFIED') refreshStatus();
});

// --- my data: the person's rights, straight to realname with the user token ---

const RIGHTS_CALLS = new Set(['getMyData', 'getMyConsents', 'withdrawConsent', 'eraseMyData']);
let rightsFailure = null; // the autherror of the last call of the person's rights
let rightsBusy = false;
let pendingRight = null; // the action awaiting confirmation: 'withdraw' or 'erase'

const STATUS_TEXT = {
  success: '已认证', failed: '未通过', cancelled: '已取消', expired: '已过期', pending: '待核验', processing: '核验中',
};
const EVIDENCE_TEXT = { face: '人脸核验', manual_review: '人工审核', authority_deposit: '线下核验' };
const ACTOR_TEXT = { person: '本人', operator: '运营人员', platform: '平台', system: '系统' };
const ACTION_TEXT = {
  'data.export': '导出数据', 'face.compare': '人脸比对', 'review.list': '查看审核列表', 'review.view': '查看审核材料',
  'user.unlock': '解除锁定', 'user.erase': '删除数据', 'consent.withdraw': '撤回同意', 'retention.run': '到期清理',
};
const CERT_TEXT = { IDENTITY_CARD: '居民身份证' };
const FIELD_TEXT = { name: '姓名', id_number: '身份证号', documents: '证件材料', face: '人脸' };
const CONFIRM = {
  withdraw: {
    text: '撤回同意后，进行中的认证会停止，您的实名认证状态将失效，您的身份信息会被删除；同意记录会保留为撤回状态。确定要撤回吗？',
    yes: '确认撤回同意',
  },
  erase: {
    text: '删除后，您的姓名、身份证号等身份信息将无法恢复，实名认证状态将失效，需要重新认证才能寄信。确定要删除吗？',
    yes: '确认删除我的数据',
  },
};

const textOr = (v, none = '—') => (v === undefined || v === null || v === '' ? none : String(v));
const timeOf = (t) => {
  if (!t || t.startsWith('0001-')) return '—';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString('zh-CN', { hour12: false });
};
const label = (table, v) => table[v] || textOr(v);

// node builds an element whose content is plain text: the export's values
// never pass through innerHTML.
function node(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function pairs(list) {
  const dl = node('dl');
  for (const [k, v] of list) dl.append(node('dt', k), node('dd', v));
  return dl;
}

function listSection(title, items, render) {
  const part = [node('h3', `${title}（${items.length}）`)];
  if (items.length === 0) {
    part.push(node('p', '无', 'none'));
    return part;
  }
  const ul = node('ul');
  for (const it of items) {
    const li = node('li');
    li.append(render(it));
    ul.append(li);
  }
  part.push(ul);
  return part;
}

// renderExport shows the answer of getMyData as text.
function renderExport(d) {
  const standing = d.standing;
  const parts = [
    node('h3', '认证状态'),
    standing
      ? pairs([['状态', label(STATUS_TEXT, standing.status)], ['方式', label(EVIDENCE_TEXT, standing.evidence)],
        ['认证时间', timeOf(standing.verified_at)], ['有效期至', timeOf(standing.expires_at)]])
      : node('p', '无', 'none'),
    ...listSection('身份信息', Array.isArray(d.identities) ? d.identities : [], (id) => pairs(id.erased
      ? [['证件类型', label(CERT_TEXT, id.cert_type)], ['状态', '已删除']]
      : [['姓名', textOr(id.name)], ['证件号码', textOr(id.id_number)], ['证件类型', label(CERT_TEXT, id.cert_type)],
        ['保存时间', timeOf(id.created_at)]])),
    ...listSection('认证记录', Array.isArray(d.verifications) ? d.verifications : [], (v) => pairs([
      ['编号', textOr(v.certify_id)], ['状态', label(STATUS_TEXT, v.status)],
      ['原因', textOr(v.fail_reason && message(v.fail_reason, v.fail_reason))], ['开始时间', timeOf(v.created_at)],
      ['同意的规则版本', textOr(v.consent && v.consent.notice_version)],
      ['同意已撤回', v.consent && v.consent.withdrawn_at ? timeOf(v.consent.withdrawn_at) : '否'],
    ])),
    ...listSection('访问记录', Array.isArray(d.access_records) ? d.access_records : [], (a) => pairs([
      ['时间', timeOf(a.at)], ['访问者', `${label(ACTOR_TEXT, a.actor_kind)} ${textOr(a.actor, '')}`.trim()],
      ['操作', label(ACTION_TEXT, a.action)],
      ['读取的信息', Array.isArray(a.fields) && a.fields.length ? a.fields.map((f) => label(FIELD_TEXT, f)).join('、') : '—'],
      ['理由', textOr(a.reason)],
    ])),
    node('p', `导出时间：${timeOf(d.exported_at)}`, 'hint'),
  ];
  if (Array.isArray(d.reviews) && d.reviews.length) {
    parts.splice(parts.length - 1, 0, ...listSection('人工审核', d.reviews, (r) => pairs([
      ['编号', textOr(r.certify_id)], ['结果', textOr(r.decision, '待审核')], ['提交时间', timeOf(r.submitted_at)],
    ])));
  }
  el.mydataExport.replaceChildren(...parts);
  el.mydataExport.hidden = false;
}

function setRightsMessage(text, isError = false) {
  el.mydataMsg.textContent = text;
  el.mydataMsg.classList.toggle('error', isError);
}

function setRightsBusy(busy) {
  rightsBusy = busy;
  for (const b of [el.mydataShow, el.mydataWithdraw, el.mydataErase, el.mydataConfirmYes]) b.disabled = busy;
}

function failureText(what) {
  const code = rightsFailure && rightsFailure.code;
  return `${what}没有成功：${message(code, hasHan(rightsFailure && rightsFailure.message) ? rightsFailure.message : '')}`;
}

function closeConfirm() {
  pendingRight = null;
  el.mydataConfirm.hidden = true;
}

// clearMyData removes every trace of the person's export from the page (on
// sign-out, and after a withdrawal or erasure).
function clearMyData() {
  closeConfirm();
  el.mydataExport.replaceChildren();
  el.mydataExport.hidden = true;
  setRightsMessage('');
}

el.mydataShow.addEventListener('click', async () => {
  if (rightsBusy) return;
  closeConfirm();
  setRightsBusy(true);
  setRightsMessage('正在加载…');
  rightsFailure = null;
  const who = userId;
  const d = await auth.getMyData();
  setRightsBusy(false);
  if (who !== userId) return; // signed out meanwhile
  if (!d) {
    setRightsMessage(failureText('加载您的数据'), true);
    return;
  }
  setRightsMessage('以下是 realname 为您保存的全部信息。');
  renderExport(d);
});

// A withdrawal or an erasure takes a second, explicit click in the page.
function askToConfirm(what) {
  if (rightsBusy) return;
  pendingRight = what;
  el.mydataConfirmText.textContent = CONFIRM[what].text;
  el.mydataConfirmYes.textContent = CONFIRM[what].yes;
  el.mydataConfirm.hidden = false;
  setRightsMessage('');
  el.mydataConfirmNo.focus();
}

el.mydataWithdraw.addEventListener('click', () => askToConfirm('withdraw'));
el.mydataErase.addEventListener('click', () => askToConfirm('erase'));
el.mydataConfirmNo.addEventListener('click', () => {
  const back = pendingRight === 'withdraw' ? el.mydataWithdraw : el.mydataErase;
  closeConfirm();
  back.focus();
});

el.mydataConfirmYes.addEventListener('click', async () => {
  const what = pendingRight;
  if (!what || rightsBusy) return;
  closeConfirm();
  setRightsBusy(true);
  setRightsMessage(what === 'withdraw' ? '正在撤回同意…' : '正在删除…');
  rightsFailure = null;
  const who = userId;
  const rep = what === 'withdraw' ? await auth.withdrawConsent() : await auth.eraseMyData();
  setRightsBusy(false);
  if (who !== userId) return;
  if (!rep) {
    setRightsMessage(failureText(what === 'withdraw' ? '撤回同意' : '删除'), true);
    return;
  }
  clearMyData();
  if (rep.nothing_held) {
    setRightsMessage('realname 没有保存您的数据，无需删除。');
  } else if (what === 'withdraw') {
    setRightsMessage(`已撤回同意（${rep.consents_withdrawn} 项），您的身份信息已删除，实名认证状态已失效。`);
  } else {
    setRightsMessage('您的数据已删除，实名认证状态已失效。');
  }
  el.mydataShow.focus();
  await refreshStatus();
});

// --- signing in and out ---

function showSignedIn(id) {
  userId = id;
  el.userId.textContent = id;
  el.signedOut.hidden = true;
  el.signedIn.hidden = false;
  el.statusCard.hidden = false;
  el.verifyCard.hidden = false;
  el.letterCard.hidden = false;
  el.mydataCard.hidden = false;
  showError(el.accountError, '');
}

function showSignedOut(why = '') {
  userId = null;
  verified = false;
  cachedToken = null;
  auth.cancel(); // the next person must not see this one's face check
  auth.clearToken();
  closedByPerson = false;
  stopPoll();
  el.signedOut.hidden = false;
  el.signedIn.hidden = true;
  el.statusCard.hidden = true;
  el.verifyCard.hidden = true;
  el.letterCard.hidden = true;
  el.mydataCard.hidden = true;
  clearMyData();
  closeConsent();
  el.form.reset();
  el.letterForm.reset();
  touched.clear();
  for (const [i, m] of [[el.name, el.nameMsg], [el.idNumber, el.idMsg]]) setFieldMessage(i, m, '');
  el.letterMsg.textContent = '';
  showError(el.verifyError, '');
  setStatus('unknown', '正在查询…');
  showError(el.accountError, why);
}

el.signin.addEventListener('click', async () => {
  el.signin.disabled = true;
  const r = await api('signin', {});
  el.signin.disabled = false;
  if (!r.ok) {
    showError(el.accountError, r.data.error || message(r.data.code));
    return;
  }
  showSignedIn(r.data.user_id);
  el.statusTitle.focus();
  await refreshStatus();
});

el.signout.addEventListener('click', async () => {
  await api('signout', {});
  showSignedOut();
  el.signin.focus();
});

// --- start ---

async function main() {
  loadNotice();
  const r = await api('me', null, 'GET');
  if (!r.ok) {
    showSignedOut(r.status === 401 ? '' : r.data.error || message(r.data.code));
    return;
  }
  showSignedIn(r.data.user_id);
  // A phone that came back from the provider's page: the SDK goes on
  // polling the session it started, and says how it ended by its events.
  if (auth.resume()) waiting = true;
  // The provider's page sends the person back with ?certifyId=…; the SDK
  // keeps what it needs, so the address bar can be tidied.
  if (location.search) history.replaceState(null, '', location.pathname);
  await refreshStatus();
}

main();
