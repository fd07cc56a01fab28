// The CameraRpc browser console (CONTRACT section 9): served by the executable itself, talks only
// to this origin. Plain JavaScript, no library, no inline code (the page's CSP forbids it), and
// never innerHTML: names, summaries and answers come from the server and are shown as text.
(() => {
  'use strict';

  const TOKEN_KEY = 'camerarpc.console.token';
  const HISTORY_LIMIT = 100;
  const EVENTS_SHOWN = 200;
  const CHART_SAMPLES = 60;
  const RETRY_FIRST_MS = 500;
  const RETRY_MAX_MS = 10000;

  const rpcPath = document.querySelector('meta[name="camerarpc-path"]').content;
  const socketBase = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + rpcPath;

  const ui = {
    state: byId('state'),
    version: byId('version'),
    reconnect: byId('reconnect'),
    forgetToken: byId('forget-token'),
    tokenForm: byId('token-form'),
    tokenMessage: byId('token-message'),
    tokenInput: byId('token-input'),
    filter: byId('filter'),
    methods: byId('methods'),
    topics: byId('topics'),
    subscriptions: byId('subscriptions'),
    noSubscriptions: byId('no-subscriptions'),
    batchForm: byId('batch-form'),
    batchInput: byId('batch-input'),
    batchError: byId('batch-error'),
    batchResult: byId('batch-result'),
    history: byId('history'),
    historyClear: byId('history-clear'),
  };

  let socket = null;
  let nextId = 1;
  let nextElementId = 1;
  let retryDelay = RETRY_FIRST_MS;
  let retryTimer = 0;
  let shownCatalogue = '';
  const pending = new Map();        // our call id -> { resolve, reject, started }
  const pendingBatches = [];        // { keys: Set of JSON ids, started, resolve }
  const subscriptions = new Map();  // subscription id -> subscription view
  const earlyEvents = new Map();    // subscription id -> events that beat the subscribe answer's handling
  const methodForms = new Map();    // method name -> { fill(params) }

  // ---------------------------------------------------------------- small DOM helpers

  function byId(id) {
    return document.getElementById(id);
  }

  /** Creates an element; props are properties (className, textContent, type…) or data-/aria- attributes. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith('data-') || key.startsWith('aria-') || key === 'for' || key === 'role' || key === 'spellcheck') node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function uniqueId(prefix) {
    return prefix + '-' + nextElementId++;
  }

  function pretty(value) {
    return value === undefined ? '' : JSON.stringify(value, null, 2);
  }

  function compact(value) {
    return value === undefined ? '' : JSON.stringify(value);
  }

  function ms(duration) {
    return duration < 10 ? duration.toFixed(2) + ' ms' : duration.toFixed(1) + ' ms';
  }

  /** Parses JSON text; answers { ok, value } or { ok: false, error } with the parser's message. */
  function parseJson(text) {
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch (error) {
      return { ok: false, error: error.message };
    }
  }

  /** Ctrl+Enter (or Cmd+Enter) in a text area submits its form. */
  function submitOnCtrlEnter(textarea) {
    textarea.addEventListener('keydown', event => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        textarea.form.requestSubmit();
      }
    });
  }

  // ---------------------------------------------------------------- connection

  function setState(state, text) {
    ui.state.dataset.state = state;
    ui.state.textContent = text;
    ui.reconnect.hidden = state !== 'disconnected';
  }

  function storedToken() {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  }

  /**
   * A browser WebSocket cannot see the upgrade's status, so a 401 would look like any other failure.
   * A POST of a ping to the same path answers 401 exactly when the upgrade would, and tells a missing
   * token from a wrong one.
   */
  async function probe(token) {
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    const response = await fetch(rpcPath, {
      method: 'POST',
      headers,
      body: '{"jsonrpc":"2.0","method":"ping","id":"console-probe"}',
      cache: 'no-store',
      credentials: 'omit',
    });
    return response.status;
  }

  async function connect() {
    clearTimeout(retryTimer);
    if (socket) return;
    setState('connecting', 'Connecting…');
    const token = storedToken();
    ui.forgetToken.hidden = !token;
    let status;
    try {
      status = await probe(token);
    } catch {
      retryLater('Server unreachable');
      return;
    }

    if (status === 401) {
      askForToken(token
        ? 'The server refused this token. Enter the right one.'
        : 'This server needs an access token.');
      setState(token ? 'token-refused' : 'token-needed', token ? 'Token refused' : 'Token needed');
      return;
    }

    if (status === 403) {
      // Behind a proxy that rewrites Host, this page's origin is not the server's own: the operator
      // lists it in --allowed-origins. Retrying cannot help until then, so it waits for a click.
      setState('disconnected', 'The server refused this page\'s origin (HTTP 403): list ' + location.origin + ' in --allowed-origins');
      return;
    }

    if (status !== 200 && status !== 204) {
      retryLater('The server answered HTTP ' + status);
      return;
    }

    ui.tokenForm.hidden = true;
    openSocket(token);
  }

  function openSocket(token) {
    const ws = new WebSocket(token ? socketBase + '?access_token=' + encodeURIComponent(token) : socketBase);
    let opened = false;
    socket = ws;
    ws.addEventListener('open', () => {
      opened = true;
      retryDelay = RETRY_FIRST_MS;
      setState('connected', 'Connected');
      discover();
    });
    ws.addEventListener('message', event => {
      if (typeof event.data === 'string') onMessage(event.data);
      else event.data.text().then(onMessage);
    });
    ws.addEventListener('close', event => {
      if (socket !== ws) return;
      socket = null;
      const why = 'connection lost';
      for (const call of pending.values()) call.reject(new Error(why));
      pending.clear();
      for (const batch of pendingBatches.splice(0)) batch.reject(new Error(why));
      for (const view of subscriptions.values()) view.end(why);
      subscriptions.clear();
      earlyEvents.clear();
      const reason = event.reason ? ' (' + event.code + ': ' + event.reason + ')' : ' (' + event.code + ')';
      retryLater(opened ? 'Connection closed' + reason : 'Could not connect');
    });
  }

  function retryLater(reason) {
    const seconds = retryDelay / 1000;
    setState('disconnected', reason + '. Retrying in ' + seconds + ' s…');
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
  }

  function askForToken(message) {
    ui.tokenMessage.textContent = message;
    ui.tokenForm.hidden = false;
    ui.tokenInput.value = '';
    ui.tokenInput.focus();
  }

  ui.tokenForm.addEventListener('submit', event => {
    event.preventDefault();
    const token = ui.tokenInput.value.trim();
    if (!token) {
      ui.tokenMessage.textContent = 'Enter a token.';
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    ui.tokenMessage.textContent = 'Checking…';
    connect();
  });

  ui.forgetToken.addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    if (socket) socket.close(1000, 'token forgotten');
    else connect();
  });

  ui.reconnect.addEventListener('click', () => {
    retryDelay = RETRY_FIRST_MS;
    connect();
  });

  // ---------------------------------------------------------------- messages

  /** Sends one call; resolves with { response, duration } or rejects when it cannot be sent or the connection drops. */
  function call(method, params) {
    return new Promise((resolve, reject) => {
      if (!socket || socket.readyState !== WebSocket.OPEN) {
        reject(new Error('not connected'));
        return;
      }
      const id = 'console-' + nextId++;
      const request = { jsonrpc: '2.0', method, id };
      if (params !== undefined) request.params = params;
      pending.set(id, { resolve, reject, started: performance.now() });
      socket.send(JSON.stringify(request));
    });
  }

  /** Sends a notification (no id): the server never answers one, not even with an error. */
  function notify(method, params) {
    if (!socket || socket.readyState !== WebSocket.OPEN) throw new Error('not connected');
    const request = { jsonrpc: '2.0', method };
    if (params !== undefined) request.params = params;
    socket.send(JSON.stringify(request));
  }

  /** Sends a batch as typed; resolves with { response, duration } (response undefined when none is due). */
  function sendBatch(batch) {
    return new Promise((resolve, reject) => {
      if (!socket || socket.readyState !== WebSocket.OPEN) {
        reject(new Error('not connected'));
        return;
      }
      const started = performance.now();
      socket.send(JSON.stringify(batch));
      // Only a batch of valid notifications is never answered; anything else (an empty batch, an
      // invalid member) gets at least one answer.
      const silent = batch.length > 0 && batch.every(isNotification);
      if (silent) {
        resolve({ response: undefined, duration: performance.now() - started });
        return;
      }
      const keys = new Set(batch.filter(m => m && typeof m === 'object' && 'id' in m).map(m => compact(m.id)));
      pendingBatches.push({ keys, started, resolve, reject });
    });
  }

  function isNotification(member) {
    return member !== null && typeof member === 'object' && !Array.isArray(member)
      && member.jsonrpc === '2.0' && typeof member.method === 'string' && !('id' in member)
      && (member.params === undefined || (member.params !== null && typeof member.params === 'object'));
  }

  function onMessage(text) {
    const parsed = parseJson(text);
    if (!parsed.ok) return;
    const message = parsed.value;
    if (!Array.isArray(message) && message && typeof message.method === 'string') {
      onNotification(message);
      return;
    }
    if (!Array.isArray(message) && message && typeof message.id === 'string' && pending.has(message.id)) {
      const call = pending.get(message.id);
      pending.delete(message.id);
      call.resolve({ response: message, duration: performance.now() - call.started });
      return;
    }
    // A batch's answer: the batch that sent one of its ids, else the oldest (answers with id null).
    const members = Array.isArray(message) ? message : [message];
    let index = pendingBatches.findIndex(b => members.some(m => m && 'id' in m && b.keys.has(compact(m.id))));
    if (index < 0 && pendingBatches.length > 0) index = 0;
    if (index < 0) return;
    const [batch] = pendingBatches.splice(index, 1);
    batch.resolve({ response: message, duration: performance.now() - batch.started });
  }

  function onNotification(message) {
    const params = message.params;
    if (!params || typeof params !== 'object' || typeof params.subscription !== 'string') return;
    const view = subscriptions.get(params.subscription);
    if (view) {
      view.event(params);
    } else {
      // Handled before the subscribe answer's continuation ran: kept until the view exists.
      const early = earlyEvents.get(params.subscription) || [];
      early.push(params);
      earlyEvents.set(params.subscription, early.slice(-EVENTS_SHOWN));
      // Events of a subscription the page never learns of (made elsewhere, or ended) are not kept.
      if (earlyEvents.size > 16) earlyEvents.delete(earlyEvents.keys().next().value);
    }
  }

  // ---------------------------------------------------------------- catalogue (rpc.discover)

  async function discover() {
    let answer;
    try {
      answer = await call('rpc.discover');
    } catch {
      return;
    }
    const openRpc = answer.response.result;
    if (!openRpc) {
      ui.methods.replaceChildren(el('p', { className: 'field-error', textContent: 'rpc.discover failed: ' + compact(answer.response.error) }));
      return;
    }
    const version = openRpc.info && openRpc.info.version;
    ui.version.textContent = version ? 'server ' + version : '';
    // After a reconnect to the same server the catalogue stays as it is, with what was typed in it.
    const catalogue = JSON.stringify([openRpc.methods, openRpc['x-topics']]);
    if (catalogue === shownCatalogue) return;
    shownCatalogue = catalogue;
    renderMethods(Array.isArray(openRpc.methods) ? openRpc.methods : []);
    renderTopics(openRpc['x-topics']);
    applyFilter();
  }

  function typeText(schema) {
    if (!schema || typeof schema !== 'object') return 'any';
    let text;
    if (Array.isArray(schema.type)) text = schema.type.join(' | ');
    else if (typeof schema.type === 'string') text = schema.type;
    else text = 'any';
    if (Array.isArray(schema.enum)) text += ' (' + schema.enum.map(compact).join(', ') + ')';
    if (schema.items) text = text.replace('array', 'array of ' + typeText(schema.items));
    return text;
  }

  function defaultOf(param) {
    if (param.schema && typeof param.schema === 'object' && 'default' in param.schema) return compact(param.schema.default);
    if ('default' in param) return compact(param.default);
    return '';
  }

  function paramTable(params) {
    if (params.length === 0) return el('p', { className: 'muted', textContent: 'No parameters.' });
    const body = el('tbody');
    for (const p of params) {
      body.append(el('tr', {},
        el('td', {}, el('code', { textContent: p.name })),
        el('td', { textContent: typeText(p.schema) }),
        el('td', { textContent: p.required ? 'yes' : 'no' }),
        el('td', {}, el('code', { textContent: defaultOf(p) }))));
    }
    return el('table', { className: 'params' },
      el('caption', { textContent: 'Parameters' }),
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col', textContent: 'name' }),
        el('th', { scope: 'col', textContent: 'type' }),
        el('th', { scope: 'col', textContent: 'required' }),
        el('th', { scope: 'col', textContent: 'default' }))),
      body);
  }

  function itemSummary(name, summary, scope) {
    return el('summary', {},
      el('code', { className: 'name', textContent: name }),
      summary ? el('span', { className: 'summary', textContent: summary }) : null,
      scope ? el('span', { className: 'scope', textContent: 'scope ' + scope }) : null);
  }

  function renderMethods(methods) {
    methodForms.clear();
    if (methods.length === 0) {
      ui.methods.replaceChildren(el('p', { className: 'muted', textContent: 'The server lists no methods.' }));
      return;
    }
    ui.methods.replaceChildren(...methods.map(renderMethod));
  }

  function renderMethod(method) {
    const params = Array.isArray(method.params) ? method.params : [];
    const result = el('div', { className: 'result', 'aria-live': 'polite' });
    const editor = paramsEditor(params, 'Call', 'Notify');
    editor.form.addEventListener('submit', async event => {
      event.preventDefault();
      const read = editor.read();
      if (!read.ok) return;
      if (event.submitter && event.submitter.value === 'notify') runNotify(method.name, read.params, result);
      else await runCall(method.name, read.params, result);
    });
    methodForms.set(method.name, editor);
    return el('details', { className: 'item method', 'data-method': method.name },
      itemSummary(method.name, method.summary, method['x-scope']),
      method.description ? el('p', { textContent: method.description }) : null,
      paramTable(params),
      editor.form,
      result);
  }

  function renderTopics(topics) {
    if (!Array.isArray(topics)) {
      ui.topics.replaceChildren(el('p', { className: 'muted', textContent: 'This server lists no topics (rpc.discover has no x-topics).' }));
      return;
    }
    if (topics.length === 0) {
      ui.topics.replaceChildren(el('p', { className: 'muted', textContent: 'The server lists no topics.' }));
      return;
    }
    ui.topics.replaceChildren(...topics.map(renderTopic));
  }

  function renderTopic(topic) {
    const params = Array.isArray(topic.params) ? topic.params : [];
    const status = el('p', { className: 'field-error', 'aria-live': 'polite' });
    const editor = paramsEditor(params, 'Subscribe');
    editor.form.addEventListener('submit', async event => {
      event.preventDefault();
      const read = editor.read();
      if (!read.ok) return;
      status.textContent = '';
      await subscribe(topic, read.params, status);
    });
    const facts = [];
    if (topic['x-overflow']) facts.push('overflow ' + topic['x-overflow']);
    if (topic['x-capacity'] !== undefined) facts.push('capacity ' + topic['x-capacity']);
    if (topic.result && topic.result.schema) facts.push('events ' + typeText(topic.result.schema));
    return el('details', { className: 'item topic', 'data-topic': topic.name },
      itemSummary(topic.name, topic.summary, topic['x-scope']),
      facts.length ? el('p', { className: 'muted', textContent: facts.join(' · ') }) : null,
      paramTable(params),
      editor.form,
      status);
  }

  /**
   * A form that takes params by name (one JSON input per parameter) or as raw JSON. read() validates
   * every input and answers { ok, params } where params is undefined when nothing was given.
   */
  function paramsEditor(params, action, extraAction) {
    const form = el('form', { className: 'call-form' });
    const modeName = uniqueId('mode');
    const byName = el('input', { type: 'radio', name: modeName, value: 'name', checked: true });
    const raw = el('input', { type: 'radio', name: modeName, value: 'raw' });
    const mode = el('fieldset', { className: 'mode' },
      el('legend', { textContent: 'Params' }),
      el('label', { className: 'choice' }, byName, ' by name'),
      el('label', { className: 'choice' }, raw, ' raw JSON'));

    const fields = params.map(p => {
      const id = uniqueId('param');
      const errorId = id + '-error';
      const input = el('textarea', {
        id, rows: 1, spellcheck: 'false', className: 'json', 'data-param': p.name,
        placeholder: p.required ? 'JSON value (required)' : 'JSON value (optional: empty leaves it out)',
        'aria-describedby': errorId,
      });
      submitOnCtrlEnter(input);
      const error = el('p', { id: errorId, className: 'field-error', 'aria-live': 'polite' });
      const label = el('label', { for: id },
        el('code', { textContent: p.name }), ' ', el('span', { className: 'muted', textContent: typeText(p.schema) + (p.required ? ', required' : '') }));
      return { param: p, input, error, box: el('div', { className: 'field' }, label, input, error) };
    });

    const rawInputId = uniqueId('raw-params');
    const rawInput = el('textarea', {
      id: rawInputId, rows: 3, spellcheck: 'false', className: 'json', 'data-raw-params': '',
      placeholder: '{"name": value} or [value, …]; empty sends no params',
      'aria-describedby': rawInputId + '-error',
    });
    submitOnCtrlEnter(rawInput);
    const rawError = el('p', { id: rawInputId + '-error', className: 'field-error', 'aria-live': 'polite' });
    const rawBox = el('div', { className: 'field', hidden: true },
      el('label', { for: rawInputId, textContent: 'Params as JSON (object or array)' }), rawInput, rawError);

    const byNameBox = el('div', {}, ...fields.map(f => f.box));
    if (fields.length === 0) byNameBox.append(el('p', { className: 'muted', textContent: 'Sent without params.' }));

    const showMode = () => {
      byNameBox.hidden = raw.checked;
      rawBox.hidden = !raw.checked;
    };
    byName.addEventListener('change', showMode);
    raw.addEventListener('change', showMode);

    const submit = el('button', { type: 'submit', textContent: action, value: 'call' });
    const buttons = el('div', { className: 'row' }, submit);
    if (extraAction) {
      buttons.append(el('button', { type: 'submit', className: 'secondary', textContent: extraAction, value: 'notify', title: 'Sent without an id: the server runs it and never answers' }));
    }
    form.append(mode, byNameBox, rawBox, buttons);

    function invalid(input, error, message) {
      input.setAttribute('aria-invalid', 'true');
      error.textContent = message;
    }

    function valid(input, error) {
      input.removeAttribute('aria-invalid');
      error.textContent = '';
    }

    function read() {
      if (raw.checked) {
        const text = rawInput.value.trim();
        if (!text) {
          valid(rawInput, rawError);
          return { ok: true, params: undefined };
        }
        const parsed = parseJson(text);
        if (!parsed.ok) {
          invalid(rawInput, rawError, 'Not valid JSON: ' + parsed.error);
          rawInput.focus();
          return { ok: false };
        }
        valid(rawInput, rawError);
        return { ok: true, params: parsed.value };
      }

      const values = {};
      let firstBad = null;
      for (const f of fields) {
        const text = f.input.value.trim();
        if (!text) {
          valid(f.input, f.error);
          continue;
        }
        const parsed = parseJson(text);
        if (!parsed.ok) {
          invalid(f.input, f.error, 'Not valid JSON' + (typeText(f.param.schema).startsWith('string') ? ' (a string needs quotes)' : '') + ': ' + parsed.error);
          firstBad = firstBad || f.input;
          continue;
        }
        valid(f.input, f.error);
        values[f.param.name] = parsed.value;
      }
      if (firstBad) {
        firstBad.focus();
        return { ok: false };
      }
      return { ok: true, params: fields.length === 0 && Object.keys(values).length === 0 ? undefined : values };
    }

    /** Puts params back in the form (from the history): raw JSON shows them exactly as sent. */
    function fill(value) {
      raw.checked = true;
      rawInput.value = value === undefined ? '' : pretty(value);
      showMode();
    }

    return { form, read, fill };
  }

  function applyFilter() {
    const needle = ui.filter.value.trim().toLowerCase();
    for (const item of document.querySelectorAll('.item')) {
      const name = item.dataset.method || item.dataset.topic || '';
      item.hidden = needle !== '' && !name.toLowerCase().includes(needle);
    }
  }

  ui.filter.addEventListener('input', applyFilter);

  // ---------------------------------------------------------------- calls, answers and history

  function answerView(response, duration) {
    const timing = el('span', { className: 'rtt', textContent: ms(duration) });
    if (response === undefined) {
      return el('div', { className: 'answer ok' }, el('p', { className: 'meta', textContent: 'sent: notifications get no answer' }));
    }
    if (Array.isArray(response)) {
      return el('div', { className: 'answer ok' },
        el('p', { className: 'meta' }, 'batch of ' + response.length + ' answer(s) · ', timing),
        el('pre', { textContent: pretty(response) }));
    }
    if (response.error) {
      const e = response.error;
      return el('div', { className: 'answer error', 'data-code': e.code },
        el('p', { className: 'meta' }, el('strong', { textContent: 'error ' + e.code }), ' ' + (e.message || '') + ' · ', timing),
        'data' in e ? el('pre', { className: 'error-data', textContent: pretty(e.data) }) : null);
    }
    return el('div', { className: 'answer ok' },
      el('p', { className: 'meta' }, 'result · ', timing),
      el('pre', { className: 'result-value', textContent: pretty(response.result) }));
  }

  function failureView(error) {
    return el('div', { className: 'answer error' }, el('p', { className: 'meta', textContent: 'not sent or not answered: ' + error.message }));
  }

  /**
   * Every call the page makes goes through here: it lands in the history, and an rpc.subscribe that
   * succeeds (from a topic's form, rpc.subscribe's own form or a re-run) gets its events shown.
   */
  async function tracked(method, params) {
    const answer = await call(method, params);
    addHistory({ kind: 'call', method, params, response: answer.response, duration: answer.duration });
    if (method === 'rpc.subscribe' && typeof answer.response.result === 'string') {
      const named = params && !Array.isArray(params) && typeof params === 'object';
      const topic = named ? params.topic : Array.isArray(params) ? params[0] : undefined;
      const topicParams = named ? params.params : Array.isArray(params) ? params[1] : undefined;
      showSubscription(String(topic), topicParams, answer.response.result);
    }
    return answer;
  }

  function runNotify(method, params, target) {
    try {
      notify(method, params);
      target.replaceChildren(el('div', { className: 'answer ok' }, el('p', { className: 'meta', textContent: 'notification sent: the server sends no answer to one' })));
      addHistory({ kind: 'notification', method, params, response: undefined, duration: 0 });
    } catch (error) {
      target.replaceChildren(failureView(error));
    }
  }

  async function runCall(method, params, target) {
    target.replaceChildren(el('p', { className: 'muted', textContent: 'Waiting for the answer…' }));
    try {
      const { response, duration } = await tracked(method, params);
      target.replaceChildren(answerView(response, duration));
    } catch (error) {
      target.replaceChildren(failureView(error));
    }
  }

  function outcomeText(response) {
    if (response === undefined) return 'sent';
    if (Array.isArray(response)) return response.length + ' answer(s)';
    return response.error ? 'error ' + response.error.code : 'ok';
  }

  function addHistory(entry) {
    const isBatch = entry.kind === 'batch';
    const isNotification = entry.kind === 'notification';
    const title = isBatch ? 'batch of ' + entry.batch.length : entry.method + (isNotification ? ' (notification)' : '');
    const request = isBatch ? compact(entry.batch) : compact(entry.params);
    const result = el('div', { className: 'result' }, answerView(entry.response, entry.duration));
    const rerun = el('button', { type: 'button', textContent: 'Re-run', 'aria-label': 'Re-run ' + title });
    rerun.addEventListener('click', async () => {
      try {
        if (isBatch) {
          const { response, duration } = await sendBatch(entry.batch);
          addHistory({ kind: 'batch', batch: entry.batch, response, duration });
        } else if (isNotification) {
          notify(entry.method, entry.params);
          addHistory(entry);
        } else {
          await tracked(entry.method, entry.params);
        }
      } catch (error) {
        result.replaceChildren(failureView(error));
      }
    });
    const edit = el('button', { type: 'button', textContent: 'Edit', 'aria-label': 'Edit ' + title });
    edit.addEventListener('click', () => {
      if (isBatch) {
        ui.batchInput.value = pretty(entry.batch);
        ui.batchInput.focus();
        return;
      }
      const editor = methodForms.get(entry.method);
      const item = document.querySelector('.item.method[data-method="' + CSS.escape(entry.method) + '"]');
      if (!editor || !item) return;
      editor.fill(entry.params);
      item.open = true;
      item.scrollIntoView({ block: 'nearest' });
      item.querySelector('[data-raw-params]').focus();
    });
    const outcome = outcomeText(entry.response);
    const li = el('li', { className: 'history-entry', 'data-outcome': outcome },
      el('details', {},
        el('summary', {},
          el('code', { textContent: title }),
          request ? el('span', { className: 'request', textContent: request }) : null,
          el('span', { className: outcome.startsWith('error') ? 'outcome error' : 'outcome', textContent: outcome }),
          el('span', { className: 'rtt', textContent: ms(entry.duration) })),
        result),
      el('div', { className: 'row' }, rerun, edit));
    ui.history.prepend(li);
    while (ui.history.children.length > HISTORY_LIMIT) ui.history.lastElementChild.remove();
  }

  ui.historyClear.addEventListener('click', () => ui.history.replaceChildren());

  submitOnCtrlEnter(ui.batchInput);
  ui.batchForm.addEventListener('submit', async event => {
    event.preventDefault();
    const parsed = parseJson(ui.batchInput.value);
    if (!parsed.ok || !Array.isArray(parsed.value)) {
      ui.batchInput.setAttribute('aria-invalid', 'true');
      ui.batchError.textContent = parsed.ok ? 'A batch is a JSON array.' : 'Not valid JSON: ' + parsed.error;
      ui.batchInput.focus();
      return;
    }
    ui.batchInput.removeAttribute('aria-invalid');
    ui.batchError.textContent = '';
    ui.batchResult.replaceChildren(el('p', { className: 'muted', textContent: 'Waiting for the answer…' }));
    try {
      const { response, duration } = await sendBatch(parsed.value);
      ui.batchResult.replaceChildren(answerView(response, duration));
      addHistory({ kind: 'batch', batch: parsed.value, response, duration });
    } catch (error) {
      ui.batchResult.replaceChildren(failureView(error));
    }
  });

  // ---------------------------------------------------------------- subscriptions

  async function subscribe(topic, params, status) {
    const request = { topic: topic.name };
    if (params !== undefined) request.params = params;
    let answer;
    try {
      answer = await tracked('rpc.subscribe', request);
    } catch (error) {
      status.textContent = 'Not subscribed: ' + error.message;
      return;
    }
    const e = answer.response.error;
    if (e) {
      status.textContent = 'Not subscribed: error ' + e.code + ' ' + e.message + ('data' in e ? ' ' + compact(e.data) : '');
    }
  }

  function showSubscription(topic, params, id) {
    const view = subscriptionView(topic, params, id);
    subscriptions.set(id, view);
    for (const early of earlyEvents.get(id) || []) view.event(early);
    earlyEvents.delete(id);
  }

  function subscriptionView(topic, params, id) {
    let lastSeq = 0;
    let count = 0;
    let ended = false;
    const state = el('span', { className: 'sub-state', textContent: 'live' });
    const events = el('ol', { className: 'events' });
    const unsubscribe = el('button', { type: 'button', textContent: 'Unsubscribe', 'aria-label': 'Unsubscribe from ' + topic });
    const remove = el('button', { type: 'button', textContent: 'Remove', hidden: true, 'aria-label': 'Remove ' + topic + ' events' });
    const chart = topic === 'server.stats' ? statsChart() : null;
    const card = el('article', { className: 'subscription card', 'data-topic': topic, 'data-subscription': id, 'data-events': '0', 'data-state': 'live' },
      el('header', { className: 'row' },
        el('h3', {}, el('code', { textContent: topic })),
        params !== undefined ? el('code', { className: 'muted', textContent: compact(params) }) : null,
        state, unsubscribe, remove),
      chart ? chart.figure : null,
      events);
    ui.noSubscriptions.hidden = true;
    ui.subscriptions.prepend(card);

    function line(className, text) {
      events.prepend(el('li', { className }, text));
      while (events.children.length > EVENTS_SHOWN) events.lastElementChild.remove();
    }

    function gapBefore(seq) {
      if (seq > lastSeq + 1) {
        const missed = seq - lastSeq - 1;
        line('gap', 'missed ' + missed + ' event' + (missed === 1 ? '' : 's') + ' (seq ' + (lastSeq + 1) + (missed > 1 ? '–' + (seq - 1) : '') + ')');
      }
    }

    function finish(reason) {
      ended = true;
      card.dataset.state = 'ended';
      card.dataset.end = reason;
      state.textContent = 'ended: ' + reason;
      unsubscribe.hidden = true;
      remove.hidden = false;
    }

    unsubscribe.addEventListener('click', async () => {
      if (ended) return;
      unsubscribe.disabled = true;
      try {
        // Events may still come until the answer; after it, none (CONTRACT section 6).
        await tracked('rpc.unsubscribe', { subscription: id });
        finish('unsubscribed');
      } catch (error) {
        finish(error.message);
      }
      subscriptions.delete(id);
    });

    remove.addEventListener('click', () => {
      card.remove();
      ui.noSubscriptions.hidden = ui.subscriptions.querySelector('.subscription') !== null;
      ui.filter.focus();
    });

    return {
      event(p) {
        if (ended) return;
        const seq = typeof p.seq === 'number' ? p.seq : lastSeq + 1;
        gapBefore(seq);
        if ('end' in p) {
          line('end', 'seq ' + seq + ' · ended by the server: ' + p.end);
          subscriptions.delete(id);
          finish(String(p.end));
          return;
        }
        lastSeq = seq;
        count++;
        card.dataset.events = String(count);
        const time = new Date().toLocaleTimeString();
        line('event', 'seq ' + seq + ' · ' + time + ' · ' + compact(p.result));
        if (chart) chart.add(p.result);
      },
      end(reason) {
        if (!ended) finish(reason);
      },
    };
  }

  /** A live chart of server.stats' callsPerSecond and connections: a canvas drawn by hand, no library. */
  function statsChart() {
    const canvas = el('canvas', { className: 'chart', width: 600, height: 160, role: 'img', 'aria-label': 'calls per second and connections, no data yet', 'data-samples': '0' });
    const legendCalls = el('span', { className: 'legend calls', textContent: 'calls/s –' });
    const legendConnections = el('span', { className: 'legend connections', textContent: 'connections –' });
    const figure = el('figure', { className: 'chart-box' }, canvas, el('figcaption', {}, legendCalls, ' ', legendConnections));
    const samples = [];

    function add(stats) {
      if (!stats || typeof stats !== 'object') return;
      samples.push({ calls: Number(stats.callsPerSecond) || 0, connections: Number(stats.connections) || 0 });
      while (samples.length > CHART_SAMPLES) samples.shift();
      const last = samples[samples.length - 1];
      legendCalls.textContent = 'calls/s ' + last.calls.toFixed(1);
      legendConnections.textContent = 'connections ' + last.connections;
      canvas.dataset.samples = String(samples.length);
      canvas.setAttribute('aria-label', 'calls per second ' + last.calls.toFixed(1) + ', connections ' + last.connections);
      draw();
    }

    function draw() {
      const ratio = window.devicePixelRatio || 1;
      const width = Math.max(200, Math.round(canvas.clientWidth || 600));
      const height = Math.max(100, Math.round(canvas.clientHeight || 160));
      if (canvas.width !== width * ratio || canvas.height !== height * ratio) {
        canvas.width = width * ratio;
        canvas.height = height * ratio;
      }
      const g = canvas.getContext('2d');
      g.setTransform(ratio, 0, 0, ratio, 0, 0);
      const style = getComputedStyle(canvas);
      const colour = name => style.getPropertyValue(name).trim() || '#888';
      g.clearRect(0, 0, width, height);
      g.fillStyle = colour('--chart-background');
      g.fillRect(0, 0, width, height);

      // The plot area leaves a band at the top for the labels.
      const pad = 8;
      const top = 24;
      const plotHeight = height - top - pad;
      const yOf = (value, max) => top + plotHeight - plotHeight * (value / max);
      g.strokeStyle = colour('--chart-grid');
      g.lineWidth = 1;
      for (let i = 0; i <= 4; i++) {
        const y = Math.round(top + plotHeight * i / 4) + 0.5;
        g.beginPath();
        g.moveTo(pad, y);
        g.lineTo(width - pad, y);
        g.stroke();
      }

      // Each series on its own scale (calls per second and connections differ by orders of magnitude),
      // its top value written in its colour; the samples spread over the width until the window is full.
      const step = (width - 2 * pad) / Math.min(Math.max(samples.length, 2) - 1, CHART_SAMPLES - 1);
      const x0 = width - pad - step * (samples.length - 1);
      g.font = '12px system-ui, sans-serif';
      g.textBaseline = 'middle';
      let labelX = pad;
      const series = (key, stroke, name) => {
        const max = Math.max(1, ...samples.map(s => s[key]));
        const label = name + ' (max ' + (Number.isInteger(max) ? max : max.toFixed(1)) + ')';
        g.fillStyle = stroke;
        g.fillText(label, labelX, top / 2);
        labelX += g.measureText(label).width + 16;
        g.strokeStyle = stroke;
        g.lineWidth = 2;
        g.lineJoin = 'round';
        g.beginPath();
        samples.forEach((s, i) => {
          if (i === 0) g.moveTo(x0, yOf(s[key], max));
          else g.lineTo(x0 + step * i, yOf(s[key], max));
        });
        if (samples.length === 1) g.lineTo(x0 - 2, yOf(samples[0][key], max));
        g.stroke();
      };
      series('calls', colour('--chart-calls'), 'calls/s');
      series('connections', colour('--chart-connections'), 'connections');
    }

    return { figure, add };
  }

  // ---------------------------------------------------------------- start

  connect();
})();
