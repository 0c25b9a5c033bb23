/*
 * Chat Center web chat widget: the visitor's side of the WEB channel (docs/webchat.md).
 *
 * Standalone: index.html#token=<visitorToken>&ws=<websocketUrl> (a fragment, so the token never
 * reaches a server log). Embedded: load widget.css and this file, then
 *   ChatCenterWidget.start({token, websocketUrl, element, onExpired})
 * which returns {stop()}. onExpired (optional) is called when the functions no longer accept the
 * token on an open connection: the site's server must hand out a new one (then start again).
 *
 * No framework, no build step, no external resources. Every piece of data reaches the page
 * through textContent or a checked attribute, never as HTML.
 */
(function (global) {
  'use strict';

  // API Gateway closes a connection idle for 10 minutes.
  var PING_EVERY_MS = 5 * 60 * 1000;
  var RECONNECT_FIRST_MS = 500;
  var RECONNECT_CAP_MS = 10000;
  var ERROR_SHOWN_MS = 6000;
  // The product's limit, in Unicode scalar values (maxlength counts UTF-16 units: stricter).
  var MAX_TEXT_CHARS = 2000;
  // Scrolled this close to the end counts as "at the end": new messages keep it there.
  var STICK_TO_END_PX = 48;

  var STATUS_TEXT = {
    connecting: 'Connecting…',
    open: 'Connected',
    reconnecting: 'Reconnecting…',
    stopped: 'Disconnected',
    failed: 'Cannot connect',
    expired: 'Session expired'
  };

  var widgetCount = 0;

  function el(tag, className, testId) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (testId) node.setAttribute('data-testid', testId);
    return node;
  }

  // crypto.randomUUID exists only in secure contexts; an embedding site may be plain http.
  function newClientMessageId() {
    if (global.crypto && typeof global.crypto.randomUUID === 'function') {
      return 'c-' + global.crypto.randomUUID();
    }
    var bytes = global.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join('');
    return 'c-' + hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' +
      hex.slice(16, 20) + '-' + hex.slice(20);
  }

  function isMessage(value) {
    return value !== null && typeof value === 'object' && typeof value.id === 'number';
  }

  // createdAt as [whole seconds in ms, the fraction's digits padded to nanoseconds]: the server
  // orders by microseconds, finer than Date keeps.
  function acceptedAt(createdAt) {
    var parts = /^(.*T\d\d:\d\d:\d\d)(?:[.,](\d+))?(.*)$/.exec(String(createdAt || ''));
    if (!parts) return [0, ''];
    return [Date.parse(parts[1] + parts[3]) || 0, ((parts[2] || '') + '000000000').slice(0, 9)];
  }

  // A thread's messages are ordered by acceptance time, then id (ids come from per-container
  // blocks, so they do not follow acceptance across containers).
  function compareMessages(a, b) {
    var at = acceptedAt(a.createdAt);
    var bt = acceptedAt(b.createdAt);
    if (at[0] !== bt[0]) return at[0] - bt[0];
    if (at[1] !== bt[1]) return at[1] < bt[1] ? -1 : 1;
    return a.id - b.id;
  }

  function safeHttpUrl(value) {
    try {
      var url = new URL(String(value));
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function formatSize(bytes) {
    if (typeof bytes !== 'number' || !isFinite(bytes) || bytes < 0) return '';
    if (bytes < 1024) return bytes + ' B';
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(bytes < 10240 ? 1 : 0) + ' KB';
    return (bytes / (1024 * 1024)).toFixed(1) + ' MB';
  }

  function Widget(options) {
    options = options || {};
    var element = typeof options.element === 'string' ? document.querySelector(options.element) : options.element;
    if (!element || element.nodeType !== 1) throw new Error('ChatCenterWidget.start: element is required');
    if (typeof options.token !== 'string' || !options.token) throw new Error('ChatCenterWidget.start: token is required');
    if (!/^wss?:\/\//i.test(String(options.websocketUrl || ''))) {
      throw new Error('ChatCenterWidget.start: websocketUrl must be a ws:// or wss:// URL');
    }
    this.token = options.token;
    this.websocketUrl = String(options.websocketUrl);
    this.host = element;
    this.onExpired = typeof options.onExpired === 'function' ? options.onExpired : null;
    this.number = ++widgetCount;

    this.messages = new Map();        // message id -> M
    this.rows = new Map();            // message id -> its <li>
    this.newest = null;               // the last stored message in thread order (sync resumes after it)
    this.unacknowledged = new Map();  // clientMessageId -> {text, row, sent, adoptedBy}
    this.onScreen = new Set();        // ids of the business's unread messages now visible
    this.readAsked = new Set();       // ids a read frame was sent for on this connection
    this.historyLoaded = false;

    this.socket = null;
    this.failedAttempts = 0;
    this.reconnectTimer = null;
    this.pingTimer = null;
    this.errorTimer = null;
    this.requestCounter = 0;
    this.stopped = false;

    this.build();
    this.listen();
    this.connect();
  }

  // --- the page ------------------------------------------------------------------------------

  Widget.prototype.build = function () {
    var inputId = 'ccw-input-' + this.number;
    var root = el('section', 'ccw', 'chat-widget');
    root.setAttribute('aria-label', 'Chat');

    var header = el('header', 'ccw-header');
    var title = el('h2', 'ccw-title');
    title.textContent = 'Chat';
    this.status = el('p', 'ccw-status', 'chat-status');
    this.status.setAttribute('role', 'status');
    header.append(title, this.status);

    this.list = el('ol', 'ccw-messages', 'chat-messages');
    this.list.setAttribute('aria-live', 'polite');
    this.list.setAttribute('aria-relevant', 'additions');
    this.list.setAttribute('aria-label', 'Conversation');
    this.list.tabIndex = 0; // scrollable with the keyboard

    this.empty = el('p', 'ccw-empty', 'chat-empty');
    this.empty.textContent = 'No messages yet. Write to us below.';
    this.empty.hidden = true;

    this.error = el('p', 'ccw-error', 'chat-error');
    this.error.setAttribute('role', 'status');
    this.error.hidden = true;

    this.form = el('form', 'ccw-composer', 'chat-form');
    var label = el('label', 'ccw-visually-hidden');
    label.htmlFor = inputId;
    label.textContent = 'Your message';
    this.input = el('textarea', 'ccw-input', 'chat-input');
    this.input.id = inputId;
    this.input.rows = 1;
    this.input.maxLength = MAX_TEXT_CHARS;
    this.input.placeholder = 'Write a message…';
    this.input.setAttribute('enterkeyhint', 'send');
    this.input.setAttribute('autocomplete', 'off');
    this.sendButton = el('button', 'ccw-send', 'chat-send');
    this.sendButton.type = 'submit';
    this.sendButton.textContent = 'Send';
    this.form.append(label, this.input, this.sendButton);

    root.append(header, this.list, this.empty, this.error, this.form);
    this.root = root;
    this.host.replaceChildren(root);
    this.setState('connecting');
  };

  Widget.prototype.listen = function () {
    var self = this;
    this.handlers = {
      submit: function (event) { event.preventDefault(); self.sendTyped(); },
      keydown: function (event) {
        // Enter sends, Shift+Enter is a new line; never in the middle of an IME composition.
        if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          self.sendTyped();
        }
      },
      input: function () { self.fitInput(); },
      visibility: function () { self.sendReads(); },
      online: function () { if (self.reconnectTimer) self.reconnectNow(); }
    };
    this.form.addEventListener('submit', this.handlers.submit);
    this.input.addEventListener('keydown', this.handlers.keydown);
    this.input.addEventListener('input', this.handlers.input);
    document.addEventListener('visibilitychange', this.handlers.visibility);
    global.addEventListener('online', this.handlers.online);

    // Null root: the viewport, so a message counts as seen only when no scrolling ancestor
    // (the list, or the embedding page) hides it.
    this.seenObserver = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        var id = Number(entry.target.getAttribute('data-message-id'));
        var viewportHeight = entry.rootBounds ? entry.rootBounds.height : global.innerHeight;
        // Half of it on screen, or half a screen of it for a message taller than the screen.
        var seen = entry.isIntersecting &&
          (entry.intersectionRatio >= 0.5 || entry.intersectionRect.height >= viewportHeight / 2);
        if (seen) self.onScreen.add(id); else self.onScreen.delete(id);
      });
      self.sendReads();
    }, { threshold: [0, 0.5, 1] });
  };

  Widget.prototype.setState = function (state) {
    this.root.setAttribute('data-state', state);
    this.status.textContent = STATUS_TEXT[state] || '';
  };

  // `lasting`: stays until the page changes (nothing the visitor can do here will clear it).
  Widget.prototype.showError = function (text, lasting) {
    var self = this;
    this.error.textContent = text;
    this.error.hidden = false;
    clearTimeout(this.errorTimer);
    if (!lasting) this.errorTimer = setTimeout(function () { self.error.hidden = true; }, ERROR_SHOWN_MS);
  };

  Widget.prototype.fitInput = function () {
    this.input.style.height = 'auto';
    this.input.style.height = Math.min(this.input.scrollHeight, 160) + 'px';
  };

  Widget.prototype.atEnd = function () {
    var list = this.list;
    return list.scrollHeight - list.scrollTop - list.clientHeight <= STICK_TO_END_PX;
  };

  Widget.prototype.scrollToEnd = function () {
    this.list.scrollTop = this.list.scrollHeight;
  };

  Widget.prototype.updateEmpty = function () {
    this.empty.hidden = !this.historyLoaded || this.list.children.length > 0;
  };

  // --- message rows --------------------------------------------------------------------------

  Widget.prototype.newRow = function (own) {
    var row = el('li', 'ccw-msg ' + (own ? 'ccw-msg--own' : 'ccw-msg--business'), 'chat-message');
    var bubble = el('div', 'ccw-bubble');
    var author = el('p', 'ccw-author', 'chat-message-author');
    var text = el('p', 'ccw-text', 'chat-message-text');
    var attachments = el('ul', 'ccw-attachments');
    var meta = el('p', 'ccw-meta');
    var time = el('time', 'ccw-time', 'chat-message-time');
    var state = el('span', 'ccw-state', 'chat-message-state');
    meta.append(time, state);
    bubble.append(author, text, attachments, meta);
    row.append(bubble);
    row.parts = { author: author, text: text, attachments: attachments, time: time, state: state };
    return row;
  };

  Widget.prototype.pendingRow = function (clientMessageId, text) {
    var row = this.newRow(true);
    row.setAttribute('data-client-message-id', clientMessageId);
    row.setAttribute('data-direction', 'INCOMING');
    row.setAttribute('data-status', 'PENDING');
    row.classList.add('ccw-msg--pending');
    row.parts.author.textContent = 'You';
    row.parts.text.textContent = text;
    row.parts.state.textContent = 'Sending…';
    return row;
  };

  Widget.prototype.fillRow = function (row, message) {
    var own = message.direction === 'INCOMING';
    row.className = 'ccw-msg ' + (own ? 'ccw-msg--own' : 'ccw-msg--business');
    row.setAttribute('data-message-id', String(message.id));
    row.setAttribute('data-direction', String(message.direction || ''));
    row.parts.author.textContent = own ? 'You' : String(message.author || 'Support');
    row.parts.text.textContent = typeof message.text === 'string' ? message.text : '';
    row.parts.text.hidden = !row.parts.text.textContent;

    var attachments = row.parts.attachments;
    attachments.replaceChildren();
    (Array.isArray(message.attachments) ? message.attachments : []).forEach(function (attachment) {
      if (!attachment || typeof attachment !== 'object') return;
      var item = el('li', 'ccw-attachment');
      var href = safeHttpUrl(attachment.url);
      var name = String(attachment.name || attachment.url || 'attachment');
      var link = el(href ? 'a' : 'span', href ? 'ccw-attachment-link' : 'ccw-attachment-name', 'chat-attachment');
      if (href) {
        link.href = href;
        link.target = '_blank';
        link.rel = 'noopener noreferrer';
      }
      link.textContent = name;
      item.append(link);
      var size = formatSize(attachment.size);
      if (size) {
        var sizeNote = el('span', 'ccw-attachment-size');
        sizeNote.textContent = ' (' + size + ')';
        item.append(sizeNote);
      }
      attachments.append(item);
    });
    attachments.hidden = attachments.children.length === 0;

    var created = new Date(message.createdAt);
    if (!isNaN(created.getTime())) {
      row.parts.time.dateTime = created.toISOString();
      // The visitor's locale and time zone.
      row.parts.time.textContent = created.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      row.parts.time.title = created.toLocaleString();
    }
    this.fillStatus(row, message);
  };

  Widget.prototype.fillStatus = function (row, message) {
    row.setAttribute('data-status', String(message.status || ''));
    // The visitor needs to know their own message arrived; the business's status is theirs.
    row.parts.state.textContent = message.direction === 'INCOMING' ? 'Sent' : '';
  };

  // Puts a stored message's row in thread order: after every stored message before it, and
  // before the pending ones (which have no place in the thread yet).
  Widget.prototype.place = function (row, message) {
    var before = null;
    var children = this.list.children;
    for (var i = 0; i < children.length; i++) {
      var other = children[i];
      if (other === row) continue;
      var otherId = other.getAttribute('data-message-id');
      if (otherId === null || compareMessages(message, this.messages.get(Number(otherId))) < 0) {
        before = other;
        break;
      }
    }
    if (row.nextSibling !== before || row.parentNode !== this.list) this.list.insertBefore(row, before);
  };

  // Shows a message from an answer or a push, once per id. `clientMessageId` names the pending
  // row it stands for when the answer says so.
  Widget.prototype.upsert = function (message, clientMessageId) {
    if (!isMessage(message)) return;
    var known = this.messages.get(message.id);
    if (known) {
      // A push may repeat a message: take what changed (its status), keep its row. READ is
      // final: a repeat that overtook the read answer must not make it unread again.
      var wasRead = known.status === 'READ';
      Object.assign(known, message);
      if (wasRead) known.status = 'READ';
      this.fillStatus(this.rows.get(message.id), known);
      if (known.status === 'READ') this.forgetUnread(message.id);
      return;
    }
    var stickToEnd = this.atEnd();
    var row = this.adoptPendingRow(message, clientMessageId || message.clientMessageId) || this.newRow(false);
    this.messages.set(message.id, message);
    this.rows.set(message.id, row);
    this.fillRow(row, message);
    this.place(row, message);
    if (!this.newest || compareMessages(message, this.newest) > 0) this.newest = message;
    if (message.direction !== 'INCOMING' && message.status !== 'READ') this.seenObserver.observe(row);
    this.updateEmpty();
    if (stickToEnd) this.scrollToEnd();
  };

  // The pending row a stored message of the visitor's replaces: the one its clientMessageId
  // names, else (a push can overtake the answer, and carries no clientMessageId) the oldest
  // pending one with the same text that went out. The entry itself stays unacknowledged until
  // its answer, so a resend still happens if the connection drops first.
  Widget.prototype.adoptPendingRow = function (message, clientMessageId) {
    if (message.direction !== 'INCOMING') return null;
    var entry = clientMessageId ? this.unacknowledged.get(clientMessageId) : null;
    if (!entry) {
      this.unacknowledged.forEach(function (candidate) {
        if (!entry && candidate.sent && candidate.adoptedBy === null && candidate.text === message.text) entry = candidate;
      });
    }
    if (!entry || entry.adoptedBy !== null) return null;
    entry.adoptedBy = message.id;
    entry.row.classList.remove('ccw-msg--pending');
    entry.row.removeAttribute('data-client-message-id');
    return entry.row;
  };

  Widget.prototype.forgetUnread = function (id) {
    var row = this.rows.get(id);
    if (row) this.seenObserver.unobserve(row);
    this.onScreen.delete(id);
  };

  // --- frames ----------------------------------------------------------------------------------

  Widget.prototype.nextRequestId = function (kind) {
    this.requestCounter += 1;
    return kind + '-' + this.requestCounter;
  };

  Widget.prototype.transmit = function (frame) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  };

  Widget.prototype.sendTyped = function () {
    var text = this.input.value;
    if (!text.trim()) return;
    if (Array.from(text).length > MAX_TEXT_CHARS) {
      this.showError('A message can be at most ' + MAX_TEXT_CHARS + ' characters.');
      return;
    }
    var clientMessageId = newClientMessageId();
    var entry = { clientMessageId: clientMessageId, text: text, row: this.pendingRow(clientMessageId, text),
      sent: false, adoptedBy: null };
    this.unacknowledged.set(clientMessageId, entry);
    this.list.append(entry.row);
    this.updateEmpty();
    this.scrollToEnd();
    this.input.value = '';
    this.fitInput();
    this.input.focus();
    this.transmitSend(entry); // when closed, the next connection sends it
  };

  Widget.prototype.transmitSend = function (entry) {
    // requestId = clientMessageId: an error frame then names the message it refuses.
    var frame = { action: 'send', text: entry.text, clientMessageId: entry.clientMessageId,
      requestId: entry.clientMessageId };
    if (this.transmit(frame)) entry.sent = true;
  };

  Widget.prototype.sendReads = function () {
    if (document.visibilityState !== 'visible') return;
    var self = this;
    this.onScreen.forEach(function (id) {
      var message = self.messages.get(id);
      if (!message || message.status === 'READ' || self.readAsked.has(id)) return;
      if (self.transmit({ action: 'read', messageId: id, requestId: 'read-' + id })) self.readAsked.add(id);
    });
  };

  Widget.prototype.receive = function (data) {
    var frame;
    try {
      frame = JSON.parse(data);
    } catch (e) {
      return; // not ours to show; the protocol only sends JSON
    }
    if (!frame || typeof frame !== 'object') return;
    var self = this;
    switch (frame.type) {
      case 'history':
        // The backend answers: the back-off can start over.
        this.failedAttempts = 0;
        (Array.isArray(frame.messages) ? frame.messages : []).forEach(function (m) { self.upsert(m); });
        if (!this.historyLoaded) {
          this.historyLoaded = true;
          this.updateEmpty();
          this.scrollToEnd();
        }
        break;
      case 'message':
        this.upsert(frame.message);
        break;
      case 'sent':
        this.acknowledge(frame);
        break;
      case 'read':
        if (this.messages.has(frame.messageId)) {
          this.upsert(Object.assign({}, this.messages.get(frame.messageId), { status: frame.status || 'READ' }));
        }
        break;
      case 'error':
        this.refused(frame);
        break;
      default:
        break; // pong, and whatever a later version adds
    }
  };

  Widget.prototype.acknowledge = function (frame) {
    var entry = this.unacknowledged.get(frame.clientMessageId);
    this.unacknowledged.delete(frame.clientMessageId);
    if (!isMessage(frame.message)) return;
    if (entry && entry.adoptedBy === null && this.messages.has(frame.message.id)) {
      // Its push came first under another text (the server may normalise it): drop the copy.
      entry.row.remove();
      this.updateEmpty();
      return;
    }
    if (entry && entry.adoptedBy !== null && entry.adoptedBy !== frame.message.id) {
      // The push we took for it was another message of the same text (another tab): this one
      // gets a row of its own.
      this.upsert(frame.message);
      return;
    }
    this.upsert(frame.message, entry && entry.adoptedBy === null ? frame.clientMessageId : undefined);
    if (entry && entry.adoptedBy === null) {
      // Stored as something that is not the visitor's own message: its own row shows it.
      entry.row.remove();
      this.updateEmpty();
    }
  };

  Widget.prototype.refused = function (frame) {
    if (frame.status === 401) {
      // The token expired and the connection was forgotten: reconnecting with it cannot help,
      // and nothing still pending will go out.
      this.stop('expired');
      var self = this;
      this.unacknowledged.forEach(function (entry) { self.markNotSent(entry, 'the chat session expired'); });
      this.unacknowledged.clear();
      this.showError('This chat session has expired. Open the chat again from the website.', true);
      if (this.onExpired) this.onExpired();
      return;
    }
    var detail = typeof frame.message === 'string' && frame.message ? frame.message : 'the request was refused';
    var entry = typeof frame.requestId === 'string' ? this.unacknowledged.get(frame.requestId) : null;
    if (entry) {
      // Refused for what it is (too long, ...): resending would be refused again.
      this.unacknowledged.delete(frame.requestId);
      this.markNotSent(entry, detail);
      this.showError('Your message was not sent: ' + detail);
      return;
    }
    this.showError(detail);
  };

  Widget.prototype.markNotSent = function (entry, why) {
    if (entry.adoptedBy !== null) return; // stored after all: its push showed it
    entry.row.classList.remove('ccw-msg--pending');
    entry.row.classList.add('ccw-msg--failed');
    entry.row.setAttribute('data-status', 'FAILED');
    entry.row.parts.state.textContent = 'Not sent';
    entry.row.title = why;
  };

  // --- the connection ------------------------------------------------------------------------

  Widget.prototype.connect = function () {
    var self = this;
    this.reconnectTimer = null;
    var url = this.websocketUrl + (this.websocketUrl.indexOf('?') < 0 ? '?' : '&') +
      'token=' + encodeURIComponent(this.token);
    var socket;
    try {
      socket = new WebSocket(url);
    } catch (e) {
      this.setState('failed'); // a malformed URL: retrying cannot help
      this.showError('The chat address is not valid.');
      return;
    }
    this.socket = socket;
    socket.onopen = function () {
      if (socket !== self.socket) return;
      self.setState('open');
      self.transmit({ action: 'sync', after: self.newest ? self.newest.id : null, requestId: self.nextRequestId('sync') });
      // Same clientMessageId as before: a message that was stored is not stored twice.
      self.unacknowledged.forEach(function (entry) { self.transmitSend(entry); });
      self.pingTimer = setInterval(function () { self.transmit({ action: 'ping' }); }, PING_EVERY_MS);
      self.sendReads();
    };
    socket.onmessage = function (event) {
      if (socket === self.socket) self.receive(event.data);
    };
    socket.onclose = function () {
      if (socket !== self.socket) return;
      self.socket = null;
      clearInterval(self.pingTimer);
      // Reads that were not answered are asked again on the next connection.
      self.readAsked.clear();
      if (!self.stopped) self.scheduleReconnect();
    };
  };

  Widget.prototype.scheduleReconnect = function () {
    var self = this;
    var ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_FIRST_MS * Math.pow(2, this.failedAttempts));
    // Between half and all of the ceiling: pages cut off together do not come back together.
    var delay = ceiling / 2 + Math.random() * ceiling / 2;
    this.failedAttempts += 1;
    this.setState('reconnecting');
    this.reconnectTimer = setTimeout(function () { self.connect(); }, delay);
  };

  Widget.prototype.reconnectNow = function () {
    clearTimeout(this.reconnectTimer);
    this.connect();
  };

  Widget.prototype.stop = function (state) {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.errorTimer);
    clearInterval(this.pingTimer);
    this.seenObserver.disconnect();
    document.removeEventListener('visibilitychange', this.handlers.visibility);
    global.removeEventListener('online', this.handlers.online);
    if (this.socket) this.socket.close(1000);
    this.socket = null;
    // Nothing typed now could ever be sent.
    this.input.disabled = true;
    this.sendButton.disabled = true;
    this.setState(state || 'stopped');
  };

  function start(options) {
    var widget = new Widget(options);
    return { stop: function () { widget.stop(); }, element: widget.root };
  }

  global.ChatCenterWidget = { start: start };

  // The standalone page (index.html) starts itself from its fragment.
  var host = document.getElementById('chat-center');
  if (host && document.body.classList.contains('ccw-page')) {
    var params = new URLSearchParams(global.location.hash.replace(/^#/, ''));
    if (params.get('token') && params.get('ws')) {
      try {
        start({ token: params.get('token'), websocketUrl: params.get('ws'), element: host });
      } catch (e) {
        host.textContent = e.message;
      }
    } else {
      var help = el('p', 'ccw-help', 'chat-help');
      help.textContent = 'Open this page as index.html#token=<visitor token>&ws=<WebSocket URL>.';
      host.replaceChildren(help);
    }
  }
})(window);
