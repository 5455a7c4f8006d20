/* yibao-qa chat page. No framework, no build step.
 * Every piece of text from the server or the user goes into the page through textContent /
 * createTextNode, never innerHTML; the CSP forbids inline scripts anyway. */
(function () {
  "use strict";

  var MAX_CHARS = 500;
  var messages = document.getElementById("messages");
  var welcome = document.getElementById("welcome");
  var form = document.getElementById("composer");
  var input = document.getElementById("question");
  var sendButton = document.getElementById("send");
  var counter = document.getElementById("counter");
  var panel = document.getElementById("panel");
  var scrim = document.getElementById("scrim");
  var panelTitle = document.getElementById("panel-title");
  var panelKicker = document.getElementById("panel-kicker");
  var panelMeta = document.getElementById("panel-meta");
  var passage = document.getElementById("passage");
  var panelFull = document.getElementById("panel-full");
  var panelClose = document.getElementById("panel-close");

  var CONVERSATION_KEY = "yibao-conversation-id";
  var ID_PATTERN = /^[A-Za-z0-9_-]{24}$/;
  var COMMENT_MAX = 500;
  var SVG_NS = "http://www.w3.org/2000/svg";
  var THUMB_UP = "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 " +
    "7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z";
  var THUMB_DOWN = "M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 " +
    "4.57-.03.32c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z";

  var busy = false;
  // The current conversation (kept for this tab only); a follow-up question is read with its earlier turns.
  var conversationId = readConversation();
  var generation = 0; // bumped by 重新开始, so an answer still on its way cannot bring the old id back
  var calcKinds = null; // kind -> schema, for input labels; optional
  var openCitation = null;
  var activeButton = null;
  var lastFocus = null;

  // ---- small DOM helpers ------------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }
  function icon(path) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "16");
    svg.setAttribute("height", "16");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var shape = document.createElementNS(SVG_NS, "path");
    shape.setAttribute("d", path);
    shape.setAttribute("fill", "currentColor");
    svg.appendChild(shape);
    return svg;
  }
  function scrollToBottom() {
    window.requestAnimationFrame(function () {
      window.scrollTo({ top: document.body.scrollHeight, behavior: "smooth" });
    });
  }

  // ---- server calls -----------------------------------------------------------------------------
  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
    }).then(readResponse, function () {
      throw { network: true, message: "网络连接失败,请检查网络后重试。 / Network error, please try again." };
    });
  }
  function getJSON(url) {
    return fetch(url, { headers: { "Accept": "application/json" } }).then(readResponse, function () {
      throw { network: true, message: "网络连接失败,请检查网络后重试。 / Network error, please try again." };
    });
  }
  function readResponse(response) {
    return response.text().then(function (text) {
      var data = null;
      try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
      if (!response.ok) {
        var message = data && typeof data.message === "string" ? data.message
          : "服务暂时不可用(HTTP " + response.status + "),请稍后再试。";
        throw { status: response.status, message: message, code: data && data.error };
      }
      if (data === null) throw { status: response.status, message: "服务器返回了无法识别的内容。 / Unexpected response." };
      return data;
    });
  }

  getJSON("/api/calculate/kinds").then(function (kinds) { calcKinds = kinds; }, function () { calcKinds = null; });

  // ---- conversation id (sessionStorage: this tab only) -----------------------------------------
  function readConversation() {
    var id = null;
    try { id = window.sessionStorage.getItem(CONVERSATION_KEY); } catch (e) { id = null; }
    return id && ID_PATTERN.test(id) ? id : null;
  }
  function saveConversation(id) {
    conversationId = id && ID_PATTERN.test(id) ? id : null;
    try {
      if (conversationId) window.sessionStorage.setItem(CONVERSATION_KEY, conversationId);
      else window.sessionStorage.removeItem(CONVERSATION_KEY);
    } catch (e) { /* storage disabled: the id lives in this page only */ }
  }

  // 重新开始: forget the conversation; the next question is answered on its own.
  function restartConversation() {
    generation += 1;
    saveConversation(null);
    var resume = document.getElementById("resume");
    if (resume) resume.remove();
    addSystemNote("已开始新的对话:接下来的问题会单独回答,不再参考前面的问题。");
    scrollToBottom();
    input.focus({ preventScroll: true });
  }

  function restartButton() {
    var button = el("button", "restart", "重新开始");
    button.type = "button";
    button.title = "开始新的对话:下一个问题不再参考前面的问题";
    button.addEventListener("click", restartConversation);
    return button;
  }

  function addSystemNote(text) {
    var li = el("li", "msg system");
    li.setAttribute("role", "status");
    li.appendChild(el("span", "system-note", text));
    messages.appendChild(li);
    return li;
  }

  // A tab that already has a conversation (page reloaded): say that questions continue it.
  if (conversationId) {
    var resume = el("p", "resume");
    resume.id = "resume";
    resume.appendChild(el("span", "", "本页有进行中的对话,新问题会接着前面的问题回答。"));
    resume.appendChild(restartButton());
    welcome.appendChild(resume);
  }

  // ---- conversation -----------------------------------------------------------------------------
  function addUserMessage(text) {
    var li = el("li", "msg user");
    li.appendChild(el("div", "bubble-user", text));
    messages.appendChild(li);
    return li;
  }

  function addCard(kind) {
    var li = el("li", "msg bot");
    var card = el("article", "card" + (kind ? " " + kind : ""));
    li.appendChild(card);
    messages.appendChild(li);
    return card;
  }

  function cardHead(card, label) {
    var head = el("div", "card-head");
    head.appendChild(el("span", "who", label));
    card.appendChild(head);
    return head;
  }

  function showLoading() {
    var card = addCard("loading");
    card.setAttribute("role", "status");
    var dots = el("span", "dots");
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    card.appendChild(dots);
    card.appendChild(el("span", "", "正在查找相关条文…"));
    return card.parentNode;
  }

  function showError(question, err) {
    var card = addCard("error");
    card.setAttribute("role", "alert");
    cardHead(card, err && err.network ? "网络错误" : "没能完成这次提问");
    card.appendChild(el("p", "answer-text", (err && err.message) || "出错了,请稍后再试。"));
    if (err && (err.network || err.status >= 500)) {
      var retry = el("button", "retry", "重试");
      retry.type = "button";
      retry.addEventListener("click", function () {
        card.parentNode.remove();
        send(question, { echo: false });
      });
      card.appendChild(retry);
    }
  }

  function citeButton(citation) {
    var button = el("button", "cite", String(citation.n));
    button.type = "button";
    button.setAttribute("aria-label", "查看引用 " + citation.n + ":" + citation.title);
    button.title = citation.title;
    button.addEventListener("click", function () { openPanel(citation, button); });
    return button;
  }

  // Answer text with [n] markers turned into buttons; other text stays plain text nodes.
  function renderAnswerText(text, byNumber) {
    var p = el("p", "answer-text");
    var pattern = /\[(\d{1,3})\]/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      var citation = byNumber[match[1]];
      if (!citation) continue;
      if (match.index > last) p.appendChild(document.createTextNode(text.slice(last, match.index)));
      var button = citeButton(citation);
      button.textContent = "[" + citation.n + "]";
      p.appendChild(button);
      last = pattern.lastIndex;
    }
    if (last < text.length) p.appendChild(document.createTextNode(text.slice(last)));
    return p;
  }

  function describeSource(citation) {
    var parts = [];
    if (citation.region && citation.region.length) parts.push(citation.region.join("、"));
    if (citation.date) parts.push(citation.date);
    return parts.join(" · ");
  }

  function renderSources(citations) {
    var wrap = el("div", "sources");
    wrap.appendChild(el("p", "sources-title", "出处"));
    citations.forEach(function (citation) {
      var row = el("button", "source");
      row.type = "button";
      var n = el("span", "cite", String(citation.n));
      n.setAttribute("aria-hidden", "true");
      row.appendChild(n);
      row.appendChild(el("span", "source-title", citation.title));
      var meta = describeSource(citation);
      if (meta) row.appendChild(el("span", "source-meta", meta));
      row.setAttribute("aria-label", "查看引用 " + citation.n + ":" + citation.title);
      row.addEventListener("click", function () { openPanel(citation, n); });
      wrap.appendChild(row);
    });
    return wrap;
  }

  function paramSchema(kind, name) {
    var schema = calcKinds && calcKinds[kind];
    if (!schema || !schema.params) return null;
    for (var i = 0; i < schema.params.length; i++) {
      if (schema.params[i].name === name) return schema.params[i];
    }
    return null;
  }

  function trimNumber(x) {
    return String(Math.round(x * 10000) / 10000);
  }

  function formatInput(spec, value) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "boolean") return value ? "是" : "否";
    if (typeof value === "number" && spec) {
      if (spec.type === "rate") return trimNumber(value * 100) + "%";
      if (spec.unit_zh) return trimNumber(value) + " " + spec.unit_zh;
    }
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  function formatResult(value) {
    if (typeof value !== "number") return String(value);
    var fixed = Math.abs(value - Math.round(value)) < 1e-9 ? String(Math.round(value)) : value.toFixed(2);
    var parts = fixed.split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return parts.join(".");
  }

  function renderCalculation(calc, byNumber) {
    var box = el("section", "calc");
    box.setAttribute("aria-label", "计算结果");
    var schema = calcKinds && calcKinds[calc.kind];
    var head = el("div", "calc-head");
    head.appendChild(el("span", "calc-kind", "计算 · " + (schema ? schema.label_zh : calc.kind)));
    if (calc.result !== null && calc.result !== undefined) {
      var result = el("span", "calc-result", formatResult(calc.result));
      if (calc.unit) result.appendChild(el("span", "unit", calc.unit));
      head.appendChild(result);
    }
    box.appendChild(head);
    if (calc.formula) box.appendChild(el("div", "calc-formula", calc.formula));

    var names = Object.keys(calc.inputs || {});
    if (names.length) {
      var dl = el("dl", "calc-inputs");
      names.forEach(function (name) {
        var spec = paramSchema(calc.kind, name);
        dl.appendChild(el("dt", "", spec && spec.label_zh ? spec.label_zh : name));
        dl.appendChild(el("dd", "", formatInput(spec, calc.inputs[name])));
      });
      box.appendChild(dl);
    }
    if (calc.missing && calc.missing.length) {
      var labels = calc.missing.map(function (name) {
        var spec = paramSchema(calc.kind, name);
        return spec && spec.label_zh ? spec.label_zh : name;
      });
      box.appendChild(el("p", "calc-missing", "还需要:" + labels.join("、")));
    }
    if (calc.assumptions && calc.assumptions.length) {
      var ul = el("ul", "calc-notes");
      calc.assumptions.forEach(function (a) { ul.appendChild(el("li", "", a)); });
      box.appendChild(ul);
    }
    if (calc.sources && calc.sources.length) {
      var src = el("div", "calc-sources", "依据 ");
      calc.sources.forEach(function (n) {
        var citation = byNumber[String(n)];
        if (citation) {
          var b = citeButton(citation);
          b.textContent = "[" + n + "]";
          src.appendChild(b);
        }
      });
      box.appendChild(src);
    }
    return box;
  }

  // ---- what the answer was read as, FAQ match, feedback -------------------------------------------
  // Compared without spaces, punctuation and full-/half-width differences: "断缴?" and "断缴?" are the same.
  function squash(text) {
    var s = String(text || "");
    if (s.normalize) s = s.normalize("NFKC");
    return s.replace(/[\s?!.,;:、。?!,;:"'“”‘’()()]+/g, "").toLowerCase();
  }

  function understoodLine(answer, typed) {
    var understood = typeof answer.understood_as === "string" ? answer.understood_as.trim() : "";
    if (!understood) return null;
    var inherited = Array.isArray(answer.inherited) && answer.inherited.length > 0;
    if (!inherited && squash(understood) === squash(typed)) return null;
    var line = el("div", "understood");
    var text = el("p", "understood-text");
    text.appendChild(el("span", "understood-label", "理解为:"));
    text.appendChild(el("span", "understood-as", understood));
    line.appendChild(text);
    if (inherited) {
      text.appendChild(el("span", "understood-note", "(结合了前面的问题)"));
      line.appendChild(restartButton());
    }
    return line;
  }

  function faqLine(faq) {
    var line = el("p", "faq-match");
    line.appendChild(el("span", "faq-label", "匹配的常见问题:"));
    line.appendChild(el("span", "faq-question", faq.question || faq.main_question || ""));
    return line;
  }

  function feedbackErrorMessage(err) {
    if (err && err.network) return "网络连接失败,评价没有发出,请稍后再试。";
    if (err && err.status === 404) return "这个回答的记录已不存在,无法评价。";
    if (err && err.status === 503) return "评价暂时无法保存,请稍后再试。";
    if (err && err.status === 422) return "评价没有发出:说明最多 500 字。";
    return "评价没有发出,请稍后再试。";
  }

  function renderFeedback(answerId) {
    var box = el("div", "feedback");
    var row = el("div", "feedback-row");
    row.appendChild(el("span", "feedback-ask", "这个回答有帮助吗?"));
    var up = el("button", "fb fb-up");
    up.type = "button";
    up.appendChild(icon(THUMB_UP));
    up.appendChild(el("span", "fb-label", "有帮助"));
    up.setAttribute("aria-pressed", "false");
    up.title = "👍 有帮助";
    var down = el("button", "fb fb-down");
    down.type = "button";
    down.appendChild(icon(THUMB_DOWN));
    down.appendChild(el("span", "fb-label", "没帮助"));
    down.setAttribute("aria-pressed", "false");
    down.title = "👎 没帮助";
    var status = el("span", "feedback-status");
    status.setAttribute("role", "status");
    row.appendChild(up);
    row.appendChild(down);
    row.appendChild(status);
    box.appendChild(row);

    // 👎: a short optional comment first
    var comment = el("form", "feedback-comment");
    comment.hidden = true;
    comment.setAttribute("novalidate", "");
    var label = el("label", "feedback-comment-label", "哪里不满意?(可选,最多 500 字,请勿填写个人信息)");
    var area = el("textarea", "feedback-text");
    area.rows = 2;
    area.maxLength = COMMENT_MAX;
    area.id = "fb-" + answerId;
    label.htmlFor = area.id;
    var actions = el("div", "feedback-actions");
    var count = el("span", "feedback-counter", "0/" + COMMENT_MAX);
    count.setAttribute("aria-hidden", "true");
    var skip = el("button", "fb-skip", "跳过");
    skip.type = "button";
    var submit = el("button", "fb-send", "发送");
    submit.type = "submit";
    actions.appendChild(count);
    actions.appendChild(skip);
    actions.appendChild(submit);
    comment.appendChild(label);
    comment.appendChild(area);
    comment.appendChild(actions);
    box.appendChild(comment);

    var sending = false;
    function setEnabled(on) {
      up.disabled = !on;
      down.disabled = !on;
      area.disabled = !on;
      skip.disabled = !on;
      submit.disabled = !on;
    }
    function rate(rating, text) {
      if (sending) return;
      sending = true;
      setEnabled(false);
      status.className = "feedback-status";
      status.textContent = "正在发送…";
      var body = { answer_id: answerId, rating: rating };
      if (text) body.comment = text;
      postJSON("/api/feedback", body).then(function () {
        comment.hidden = true;
        (rating === "up" ? up : down).classList.add("chosen");
        (rating === "up" ? up : down).setAttribute("aria-pressed", "true");
        box.classList.add("done");
        box.dataset.rating = rating;
        status.className = "feedback-status ok";
        status.textContent = rating === "up" ? "谢谢,已记录您的评价。" : "谢谢反馈,我们会据此改进。";
      }, function (err) {
        sending = false;
        setEnabled(true);
        status.className = "feedback-status failed";
        status.textContent = feedbackErrorMessage(err);
      });
    }
    up.addEventListener("click", function () { comment.hidden = true; rate("up"); });
    down.addEventListener("click", function () {
      if (!comment.hidden) { area.focus(); return; }
      comment.hidden = false;
      down.classList.add("pending");
      status.textContent = "";
      area.focus({ preventScroll: true });
      comment.scrollIntoView({ block: "nearest" });
    });
    area.addEventListener("input", function () {
      count.textContent = area.value.length + "/" + COMMENT_MAX;
    });
    comment.addEventListener("submit", function (event) {
      event.preventDefault();
      rate("down", area.value.trim().slice(0, COMMENT_MAX));
    });
    skip.addEventListener("click", function () { rate("down"); });
    return box;
  }

  // The parts every answer card gets after its text.
  function addAnswerExtras(card, answer, typed) {
    var understood = understoodLine(answer, typed);
    if (understood) card.insertBefore(understood, card.querySelector(".answer-text").nextSibling);
    if (answer.faq) {
      card.querySelector(".card-head").appendChild(el("span", "badge badge-faq", "常见问题"));
      card.insertBefore(faqLine(answer.faq), card.querySelector(".answer-text"));
    }
    if (answer.answer_id) {
      card.dataset.answerId = answer.answer_id;
      card.appendChild(renderFeedback(answer.answer_id));
    }
  }

  function showAnswer(answer, typed) {
    var citations = Array.isArray(answer.citations) ? answer.citations : [];
    var byNumber = {};
    citations.forEach(function (c) { byNumber[String(c.n)] = c; });

    // Four statuses, four looks: answered; partial (the sources cover the topic, not the thing asked);
    // no_answer (in the domain, nothing in the sources); out_of_scope (another subject).
    var status = answer.status || (answer.refused ? "no_answer" : "answered");
    if (status === "no_answer" || status === "out_of_scope") {
      var notice = addCard("notice");
      notice.classList.add("answer", "status-" + status);
      notice.dataset.status = status;
      var nh = cardHead(notice, "");
      clear(nh);
      nh.appendChild(el("span", "notice-icon", status === "no_answer" ? "?" : "i"));
      nh.appendChild(el("span", "who", status === "no_answer" ? "资料中没有答案" : "不在服务范围内"));
      notice.appendChild(el("p", "answer-text", answer.answer));
      addAnswerExtras(notice, answer, typed);
      return notice;
    }

    var card = addCard("answer");
    card.classList.add("status-" + status);
    card.dataset.status = status;
    var head = cardHead(card, status === "partial" ? "部分回答" : "回答");
    if (status === "partial") {
      var pbadge = el("span", "badge badge-partial", "资料不完整");
      pbadge.title = "资料涉及这个话题,但没有您问的具体内容;下面引用的内容仅供参考";
      head.appendChild(pbadge);
    }
    if (answer.conflict) {
      var badge = el("span", "badge", "各地规定不同");
      badge.title = "不同文章或地区的规定不一致,请以当地医保部门为准";
      head.appendChild(badge);
    }
    card.appendChild(renderAnswerText(answer.answer || "", byNumber));
    if (answer.calculation) card.appendChild(renderCalculation(answer.calculation, byNumber));
    if (citations.length) card.appendChild(renderSources(citations));
    if (answer.timings_ms && typeof answer.timings_ms.total === "number") {
      card.appendChild(el("div", "meta-line", "用时 " + (answer.timings_ms.total / 1000).toFixed(2) + " 秒 · 仅供参考,以当地医保部门规定为准"));
    }
    addAnswerExtras(card, answer, typed);
    return card;
  }

  function setBusy(value) {
    busy = value;
    sendButton.disabled = value;
    Array.prototype.forEach.call(document.querySelectorAll(".example"), function (b) { b.disabled = value; });
  }

  // One question in the current conversation. A conversation the server no longer knows (deleted, past
  // the retention period) → a new conversation, and the question is sent once more without the id.
  function ask(question) {
    var gen = generation;
    var body = { question: question };
    if (conversationId) body.conversation_id = conversationId;
    return postJSON("/api/ask", body).then(function (answer) {
      return { answer: answer, restarted: false };
    }, function (err) {
      if (!(err && err.status === 404 && err.code === "unknown_conversation" && body.conversation_id)) throw err;
      if (conversationId === body.conversation_id) saveConversation(null);
      return postJSON("/api/ask", { question: question }).then(function (answer) {
        return { answer: answer, restarted: true };
      });
    }).then(function (result) {
      if (gen === generation && result.answer && result.answer.conversation_id) {
        saveConversation(result.answer.conversation_id);
      }
      return result;
    });
  }

  function send(question, options) {
    if (busy) return;
    var echo = !options || options.echo !== false;
    if (echo) addUserMessage(question);
    welcome.classList.add("compact");
    var loading = showLoading();
    setBusy(true);
    scrollToBottom();
    ask(question).then(function (result) {
      loading.remove();
      if (result.restarted) addSystemNote("之前的对话已失效(可能已删除或超过保存期限),已开始新的对话。");
      showAnswer(result.answer, question);
    }, function (err) {
      loading.remove();
      showError(question, err);
    }).then(function () {
      setBusy(false);
      scrollToBottom();
    });
  }

  // ---- citation panel -------------------------------------------------------------------------
  // Highlights are [start, end) offsets into the cleaned document; the passage is document[start:end].
  function segments(base, length, ranges) {
    var clipped = [];
    (ranges || []).forEach(function (r) {
      var s = Math.max(0, r[0] - base);
      var e = Math.min(length, r[1] - base);
      if (e > s) clipped.push([s, e]);
    });
    clipped.sort(function (a, b) { return a[0] - b[0]; });
    var merged = [];
    clipped.forEach(function (r) {
      var lastRange = merged[merged.length - 1];
      if (lastRange && r[0] <= lastRange[1]) lastRange[1] = Math.max(lastRange[1], r[1]);
      else merged.push([r[0], r[1]]);
    });
    return merged;
  }

  // Blank lines between paragraphs are shown as one line break (display only: offsets were applied
  // to the original text before this).
  function compact(text) {
    return text.replace(/\n[ \t]*\n+/g, "\n");
  }

  function appendHighlighted(container, text, ranges) {
    var pos = 0;
    var first = null;
    ranges.forEach(function (r) {
      if (r[0] > pos) container.appendChild(document.createTextNode(compact(text.slice(pos, r[0]))));
      var mark = el("mark", "", compact(text.slice(r[0], r[1])));
      container.appendChild(mark);
      if (!first) first = mark;
      pos = r[1];
    });
    if (pos < text.length) container.appendChild(document.createTextNode(compact(text.slice(pos))));
    return first;
  }

  function fillMeta(citation) {
    clear(panelMeta);
    (citation.region || []).forEach(function (r) { panelMeta.appendChild(el("span", "chip region", r)); });
    panelMeta.appendChild(el("span", "chip", citation.date ? "发布日期 " + citation.date : "未注明日期"));
  }

  function openPanel(citation, button) {
    if (!panel.hidden && openCitation === citation) { closePanel(); return; }
    openCitation = citation;
    if (activeButton) activeButton.classList.remove("active");
    activeButton = button || null;
    if (activeButton) activeButton.classList.add("active");
    if (panel.hidden) lastFocus = document.activeElement;

    panelKicker.textContent = "引用 [" + citation.n + "]";
    panelTitle.textContent = citation.title;
    fillMeta(citation);
    clear(passage);
    var first = appendHighlighted(passage, citation.text, segments(citation.start, citation.text.length, citation.highlights));
    panelFull.hidden = false;
    panelFull.disabled = false;
    panelFull.textContent = "查看全文";

    panel.hidden = false;
    scrim.hidden = false;
    document.body.classList.add("panel-open");
    passage.scrollTop = 0;
    if (first) first.scrollIntoView({ block: "nearest" });
    panelClose.focus({ preventScroll: true });
  }

  function closePanel() {
    panel.hidden = true;
    scrim.hidden = true;
    document.body.classList.remove("panel-open");
    if (activeButton) activeButton.classList.remove("active");
    openCitation = null;
    activeButton = null;
    if (lastFocus && document.body.contains(lastFocus)) lastFocus.focus({ preventScroll: true });
  }

  function showFullDocument() {
    var citation = openCitation;
    if (!citation) return;
    panelFull.disabled = true;
    panelFull.textContent = "加载中…";
    getJSON("/api/documents/" + encodeURIComponent(citation.doc_id)).then(function (doc) {
      if (openCitation !== citation) return;
      var text = String(doc.text || "");
      clear(passage);
      // before the passage (dim), the passage (tinted, with the quoted sentences marked), after it (dim)
      passage.appendChild(el("span", "dim", compact(text.slice(0, citation.start))));
      var inside = el("span", "in-passage");
      var first = appendHighlighted(inside, text.slice(citation.start, citation.end),
        segments(citation.start, citation.end - citation.start, citation.highlights));
      passage.appendChild(inside);
      passage.appendChild(el("span", "dim", compact(text.slice(citation.end))));
      panelFull.hidden = true;
      (first || inside).scrollIntoView({ block: "center" });
    }, function (err) {
      panelFull.disabled = false;
      panelFull.textContent = "加载失败,重试";
      panelFull.title = err && err.message ? err.message : "";
    });
  }

  panelClose.addEventListener("click", closePanel);
  scrim.addEventListener("click", closePanel);
  panelFull.addEventListener("click", showFullDocument);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden) closePanel();
  });

  // ---- composer --------------------------------------------------------------------------------
  function updateCounter() {
    var n = input.value.length;
    counter.textContent = n + "/" + MAX_CHARS;
    counter.classList.toggle("over", n > MAX_CHARS);
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 180) + "px";
  }

  function showHint(text) {
    var hint = document.getElementById("hint");
    if (!hint) {
      hint = el("p", "hint");
      hint.id = "hint";
      hint.setAttribute("role", "alert");
      form.parentNode.insertBefore(hint, form);
    }
    hint.textContent = text;
  }
  function clearHint() {
    var hint = document.getElementById("hint");
    if (hint) hint.remove();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) return;
    var question = input.value.trim();
    if (!question) { showHint("请先输入问题。"); input.focus(); return; }
    clearHint();
    input.value = "";
    updateCounter();
    send(question);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : sendButton.click();
    }
  });
  input.addEventListener("input", function () { clearHint(); updateCounter(); });

  Array.prototype.forEach.call(document.querySelectorAll(".example"), function (button) {
    button.addEventListener("click", function () {
      if (!busy) send(button.textContent);
    });
  });

  updateCounter();
})();
