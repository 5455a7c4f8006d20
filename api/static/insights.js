/* yibao-qa knowledge-gap page (/kb/insights). No framework, no build step.
 * Everything from the server goes into the page with textContent, never as HTML; the CSP forbids inline
 * scripts and styles anyway. The admin token lives in sessionStorage only, under the key the /kb page uses,
 * so one entry serves both pages in a tab. */
(function () {
  "use strict";

  var TOKEN_KEY = "yibao-kb-token"; // shared with kb.js
  var MAX_EXAMPLES = 5;
  var MAX_SIMILAR = 50;
  var SVG_NS = "http://www.w3.org/2000/svg";
  var THUMB_DOWN = "M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 " +
    "4.57-.03.32c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z";
  var STATUS_LABELS = {
    no_answer: "资料中没有答案",
    partial: "部分回答",
    answered: "已回答",
    out_of_scope: "不在服务范围",
  };
  var NETWORK_ERROR = { network: true, status: 0, message: "网络连接失败,请检查网络后重试。" };

  function $(id) { return document.getElementById(id); }
  var controls = $("controls");
  var tokenInput = $("token");
  var statusBox = $("status");
  var loadButton = $("load");
  var csvButton = $("csv");
  var volumeBox = $("volume-box");
  var volumeList = $("volume");
  var summary = $("summary");
  var clustersBox = $("clusters-box");
  var clusterList = $("clusters");
  var empty = $("empty");
  var loading = 0; // request number of the report being loaded; older answers are dropped

  // ---- small DOM helpers ------------------------------------------------------------------------------
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
    svg.setAttribute("width", "14");
    svg.setAttribute("height", "14");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var shape = document.createElementNS(SVG_NS, "path");
    shape.setAttribute("d", path);
    shape.setAttribute("fill", "currentColor");
    svg.appendChild(shape);
    return svg;
  }
  // A message box: kind "ok", "error" or "busy"; lines are plain text.
  function showResult(box, kind, title, lines) {
    clear(box);
    box.classList.remove("ok", "error", "busy");
    box.classList.add("in-result", kind);
    box.appendChild(el("p", "in-result-title", title));
    (lines || []).forEach(function (line) { if (line) box.appendChild(el("p", "in-result-line", line)); });
    box.hidden = false;
  }

  // ---- token (sessionStorage only, shared with /kb) -----------------------------------------------------
  function readToken() {
    try { return window.sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }
  function saveToken(value) {
    try {
      if (value) window.sessionStorage.setItem(TOKEN_KEY, value);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage disabled: the token lives in the field only */ }
  }
  function token() { return tokenInput.value.trim(); }
  function markToken(bad) {
    tokenInput.classList.toggle("invalid", bad);
    if (bad) tokenInput.setAttribute("aria-invalid", "true");
    else tokenInput.removeAttribute("aria-invalid");
  }

  // ---- server calls ------------------------------------------------------------------------------------
  function call(method, url, body) {
    var headers = { "Accept": "application/json", "Authorization": "Bearer " + token() };
    var options = { method: method, headers: headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) { return response; }, function () { throw NETWORK_ERROR; });
  }

  // The error body ({error, message_zh, detail, problems}) of a failed response, as one thrown object.
  function failure(response) {
    return response.text().then(function (text) {
      var data = null;
      try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
      throw { status: response.status, data: data || {} };
    });
  }
  function readJSON(response) {
    if (!response.ok) return failure(response);
    return response.json().then(function (data) { return { status: response.status, data: data }; }, function () {
      throw { status: response.status, data: {}, message: "服务器返回了无法识别的内容。" };
    });
  }

  // Chinese title and detail lines for an error.
  function explain(err) {
    if (!err || err.network) return { title: NETWORK_ERROR.message, lines: [] };
    var data = err.data || {};
    var lines = [];
    if (Array.isArray(data.detail)) {
      data.detail.forEach(function (d) {
        if (d && d.message_zh) lines.push((d.field ? d.field + ":" : "") + d.message_zh);
      });
    }
    if (Array.isArray(data.problems)) {
      data.problems.forEach(function (p) {
        if (p && (p.message_zh || p.message_en)) lines.push(p.message_zh || p.message_en);
      });
    }
    var title;
    if (err.status === 401) title = "管理令牌不正确或未填写,请检查上方的令牌。";
    else if (err.status === 403) title = "管理接口未启用:请在服务端设置 YIBAO_ADMIN_TOKEN 后重启服务。";
    else if (data.message_zh) title = data.message_zh;
    else if (err.message) title = err.message;
    else if (err.status >= 500) title = "服务暂时不可用(HTTP " + err.status + "),请稍后再试。";
    else title = "请求没有成功(HTTP " + err.status + ")。";
    return { title: title, lines: lines };
  }

  function selectedDays() {
    var checked = controls.querySelector("input[name=days]:checked");
    return checked ? checked.value : "";
  }
  function daysQuery() {
    var days = selectedDays();
    return days ? "?days=" + encodeURIComponent(days) : "";
  }
  function rangeText() {
    var days = selectedDays();
    return days ? "近 " + days + " 天" : "全部时间";
  }

  // ---- dates -------------------------------------------------------------------------------------------
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function localDate(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso || "").slice(0, 10);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }
  function localTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    return pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  // ---- the report ---------------------------------------------------------------------------------------
  function load() {
    if (!token()) {
      markToken(true);
      showResult(statusBox, "error", "请先填写管理令牌。", []);
      tokenInput.focus();
      return;
    }
    var mine = ++loading;
    loadButton.disabled = true;
    showResult(statusBox, "busy", "正在加载" + rangeText() + "的报告…", []);
    call("GET", "/api/insights" + daysQuery()).then(readJSON).then(function (result) {
      if (mine !== loading) return;
      markToken(false);
      statusBox.hidden = true;
      render(result.data);
    }, function (err) {
      if (mine !== loading) return;
      var e = explain(err);
      markToken(err && (err.status === 401 || err.status === 403));
      showResult(statusBox, "error", e.title, e.lines);
      volumeBox.hidden = true;
      clustersBox.hidden = true;
    }).then(function () {
      if (mine === loading) loadButton.disabled = false;
    });
  }

  function render(report) {
    var clusters = Array.isArray(report.clusters) ? report.clusters.slice() : [];
    clusters.sort(function (a, b) { return (b.count || 0) - (a.count || 0); }); // most frequent first
    var days = Array.isArray(report.volume_by_day) ? report.volume_by_day : [];
    var total = days.reduce(function (sum, d) { return sum + (d.questions || 0); }, 0);

    summary.textContent = rangeText() + "共 " + total + " 个提问;其中 " + (report.gaps || 0) +
      " 个没能回答、只回答了一部分或被点踩,归为 " + clusters.length + " 个主题。";
    renderVolume(days);
    volumeBox.hidden = false;

    clear(clusterList);
    clusters.forEach(function (c, i) { clusterList.appendChild(renderCluster(c, i)); });
    empty.hidden = clusters.length > 0;
    clustersBox.hidden = false;
  }

  function renderVolume(days) {
    clear(volumeList);
    var max = days.reduce(function (m, d) { return Math.max(m, d.questions || 0); }, 0);
    if (!days.length) {
      volumeList.appendChild(el("li", "in-bar-empty", "这段时间没有提问。"));
      return;
    }
    days.forEach(function (d) {
      var li = el("li", "in-bar-row");
      li.appendChild(el("span", "in-bar-day", d.day));
      var track = el("span", "in-bar-track");
      var bar = el("span", "in-bar");
      // CSSOM, not a style attribute: allowed by the CSP (style-src 'self')
      bar.style.width = (max ? Math.max(2, Math.round((d.questions || 0) * 100 / max)) : 0) + "%";
      track.appendChild(bar);
      li.appendChild(track);
      li.appendChild(el("span", "in-bar-count", d.questions || 0));
      li.setAttribute("aria-label", d.day + ":" + (d.questions || 0) + " 个提问");
      volumeList.appendChild(li);
    });
  }

  function renderCluster(c, index) {
    var li = el("li", "in-cluster");
    li.dataset.count = String(c.count || 0);
    var head = el("div", "in-cluster-head");
    head.appendChild(el("span", "in-count", (c.count || 0) + " 次"));
    var title = el("h3", "in-label-text", c.label);
    title.id = "cluster-" + index;
    head.appendChild(title);
    li.appendChild(head);
    li.setAttribute("aria-labelledby", title.id);

    var meta = el("div", "in-meta");
    var first = localDate(c.first_seen);
    var last = localDate(c.last_seen);
    var dates = el("span", "in-dates", "首次 " + first + " · 最近 " + last);
    dates.title = "首次 " + first + " " + localTime(c.first_seen) + ",最近 " + last + " " + localTime(c.last_seen);
    meta.appendChild(dates);
    Object.keys(c.statuses || {}).forEach(function (s) {
      var chip = el("span", "in-chip in-status-" + s, (STATUS_LABELS[s] || s) + " " + c.statuses[s]);
      meta.appendChild(chip);
    });
    var down = el("span", "in-chip in-down" + (c.rated_down ? " has-down" : ""));
    down.appendChild(icon(THUMB_DOWN));
    down.appendChild(el("span", "", "被点踩 " + (c.rated_down || 0)));
    down.title = "👎 " + (c.rated_down || 0);
    meta.appendChild(down);
    li.appendChild(meta);

    var examples = (Array.isArray(c.examples) ? c.examples : []).slice(0, MAX_EXAMPLES);
    if (examples.length) {
      var ul = el("ul", "in-examples");
      ul.setAttribute("aria-label", "示例问题");
      examples.forEach(function (q) { ul.appendChild(el("li", "", q)); });
      li.appendChild(ul);
    }

    var actions = el("div", "in-actions");
    var create = el("button", "in-btn in-small in-create", "创建常见问题");
    create.type = "button";
    create.setAttribute("aria-expanded", "false");
    actions.appendChild(create);
    li.appendChild(actions);

    var formBox = null;
    create.addEventListener("click", function () {
      if (!formBox) {
        formBox = faqForm(c, index, function () { toggle(false); });
        li.appendChild(formBox);
      }
      toggle(formBox.hidden);
    });
    function toggle(open) {
      formBox.hidden = !open;
      create.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) {
        var answer = formBox.querySelector(".in-faq-answer");
        if (answer && !answer.disabled) answer.focus();
      }
    }
    return li;
  }

  // ---- a FAQ pair from a cluster ---------------------------------------------------------------------------
  function field(labelText, control, hint) {
    var wrap = el("div", "in-field");
    var label = el("label", "in-label", labelText);
    if (hint) label.appendChild(el("span", "in-hint", " " + hint));
    label.htmlFor = control.id;
    wrap.appendChild(label);
    wrap.appendChild(control);
    return wrap;
  }

  function uniqueLines(text, main) {
    var seen = {};
    seen[main.trim()] = true;
    var out = [];
    String(text || "").split(/\r?\n/).forEach(function (line) {
      var q = line.trim();
      if (q && !seen[q]) { seen[q] = true; out.push(q); }
    });
    return out;
  }

  function faqForm(c, index, onCancel) {
    var prefix = "faq-" + index + "-";
    var form = el("form", "in-faq");
    form.hidden = true; // opened by the cluster's button
    form.setAttribute("novalidate", "");
    form.setAttribute("aria-label", "从这个主题创建常见问题");

    var question = el("input", "in-faq-question");
    question.type = "text";
    question.id = prefix + "question";
    question.maxLength = 500;
    question.value = c.label || "";
    question.required = true;
    form.appendChild(field("问题", question));

    var similar = el("textarea", "in-faq-similar");
    similar.id = prefix + "similar";
    similar.rows = 3;
    similar.value = uniqueLines((c.examples || []).join("\n"), question.value).join("\n");
    form.appendChild(field("相似问法", similar, "每行一个"));

    var answer = el("textarea", "in-faq-answer");
    answer.id = prefix + "answer";
    answer.rows = 4;
    answer.maxLength = 20000;
    answer.required = true;
    answer.placeholder = "写出准确、完整的答案(会原样提供给提问的人)";
    form.appendChild(field("答案", answer));

    var grid = el("div", "in-faq-grid");
    var region = el("input", "in-faq-region");
    region.type = "text";
    region.id = prefix + "region";
    region.maxLength = 200;
    region.placeholder = "例如:天津市(可不填)";
    grid.appendChild(field("地区", region));
    var source = el("input", "in-faq-source");
    source.type = "text";
    source.id = prefix + "source";
    source.maxLength = 200;
    source.placeholder = "例如:市医保局官网(可不填)";
    grid.appendChild(field("来源", source));
    form.appendChild(grid);

    var actions = el("div", "in-actions");
    var submit = el("button", "in-btn in-primary in-small in-faq-submit", "创建");
    submit.type = "submit";
    var cancel = el("button", "in-btn in-small", "收起");
    cancel.type = "button";
    cancel.addEventListener("click", onCancel);
    actions.appendChild(submit);
    actions.appendChild(cancel);
    form.appendChild(actions);
    var result = el("div", "in-result in-faq-result");
    result.setAttribute("role", "status");
    result.hidden = true;
    form.appendChild(result);

    var controlsList = [question, similar, answer, region, source, submit];
    function setEnabled(on) { controlsList.forEach(function (control) { control.disabled = !on; }); }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var q = question.value.trim();
      var a = answer.value.trim();
      if (!q || !a) {
        showResult(result, "error", !q ? "请填写问题。" : "请填写答案。", []);
        (!q ? question : answer).focus();
        return;
      }
      if (!token()) {
        markToken(true);
        showResult(result, "error", "请先在页面上方填写管理令牌。", []);
        return;
      }
      var body = { question: q, answer: a, similar_questions: uniqueLines(similar.value, q).slice(0, MAX_SIMILAR) };
      if (region.value.trim()) body.region = region.value.trim();
      if (source.value.trim()) body.source = source.value.trim();
      setEnabled(false);
      showResult(result, "busy", "正在创建…(发布到知识库需要几秒钟)", []);
      call("POST", "/api/faq/pairs", body).then(readJSON).then(function (res) {
        var d = res.data || {};
        var lines = ["编号 " + (d.pair_id || "") + (d.version ? " · 知识库版本 " + d.version : "")];
        if (d.unchanged && !d.added && !d.updated) {
          showResult(result, "ok", "已有完全相同的常见问题,没有修改。", lines);
        } else {
          lines.push("以后相同或相似的问题会直接给出这个答案。");
          showResult(result, "ok", d.updated ? "已更新常见问题。" : "已创建常见问题。", lines);
        }
        form.classList.add("done");
        submit.disabled = true;
      }, function (err) {
        setEnabled(true);
        if (err && (err.status === 401 || err.status === 403)) markToken(true);
        var e = explain(err);
        showResult(result, "error", err && err.status === 409 ? "没有创建:" + e.title : e.title, e.lines);
      });
    });
    return form;
  }

  // ---- CSV: fetched with the token, saved through a blob link ------------------------------------------------
  function filename(response) {
    var header = response.headers.get("Content-Disposition") || "";
    var match = /filename="?([^";]+)"?/i.exec(header);
    return match ? match[1] : "yibao-knowledge-gaps.csv";
  }

  function downloadCSV() {
    if (!token()) {
      markToken(true);
      showResult(statusBox, "error", "请先填写管理令牌。", []);
      tokenInput.focus();
      return;
    }
    csvButton.disabled = true;
    call("GET", "/api/insights.csv" + daysQuery()).then(function (response) {
      if (!response.ok) return failure(response);
      var name = filename(response);
      return response.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var link = el("a");
        link.href = url;
        link.download = name;
        link.hidden = true;
        document.body.appendChild(link);
        link.click();
        link.remove();
        window.setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
        markToken(false);
        showResult(statusBox, "ok", "已下载 " + name + "(" + rangeText() + ")。", []);
      });
    }).catch(function (err) {
      var e = explain(err);
      if (err && (err.status === 401 || err.status === 403)) markToken(true);
      showResult(statusBox, "error", "CSV 下载失败:" + e.title, e.lines);
    }).then(function () { csvButton.disabled = false; });
  }

  // ---- wiring ----------------------------------------------------------------------------------------------
  tokenInput.value = readToken();
  tokenInput.addEventListener("input", function () {
    saveToken(token());
    markToken(false);
  });
  $("token-clear").addEventListener("click", function () {
    tokenInput.value = "";
    saveToken("");
    tokenInput.focus();
  });
  controls.addEventListener("submit", function (event) {
    event.preventDefault();
    load();
  });
  Array.prototype.forEach.call(controls.querySelectorAll("input[name=days]"), function (radio) {
    radio.addEventListener("change", function () { if (token()) load(); });
  });
  csvButton.addEventListener("click", downloadCSV);

  if (token()) load();
  else showResult(statusBox, "busy", "填写管理令牌后点“查看”。", []);
})();
