/* yibao-qa knowledge-base page (/kb). No framework, no build step.
 * Everything the server or the user sends goes into the page through textContent, never innerHTML;
 * the CSP forbids inline scripts and styles anyway. The admin token lives in sessionStorage only. */
(function () {
  "use strict";

  var TOKEN_KEY = "yibao-kb-token";
  var ORIGIN_LABELS = { corpus: "语料", upload: "上传" };
  var STATUS_LABELS = { active: "有效", expired: "已过期" };
  var NETWORK_ERROR = "网络连接失败,请检查网络或服务是否在运行。";
  var HINT_401 = "请检查上方填写的管理令牌是否与服务端的 YIBAO_ADMIN_TOKEN 一致。";
  var HINT_403 = "管理接口未启用:请在服务端设置环境变量 YIBAO_ADMIN_TOKEN 后重启服务。";

  var $ = function (id) { return document.getElementById(id); };
  var tokenInput = $("token");
  var tokenClear = $("token-clear");
  var tokenState = $("token-state");
  var uploadForm = $("upload-form");
  var uploadFile = $("upload-file");
  var uploadButton = $("upload-button");
  var uploadProgress = $("upload-progress");
  var uploadBusy = $("upload-busy");
  var uploadResult = $("upload-result");
  var versionLine = $("kb-version");
  var countLine = $("kb-count");
  var filterInput = $("filter");
  var refreshButton = $("refresh");
  var listResult = $("list-result");
  var table = $("doc-table");
  var rows = $("doc-rows");
  var emptyLine = $("kb-empty");
  var panel = $("panel");
  var scrim = $("scrim");
  var panelTitle = $("panel-title");
  var panelMeta = $("panel-meta");
  var panelNote = $("panel-note");
  var docText = $("doc-text");
  var panelClose = $("panel-close");
  var dialog = $("confirm");

  var state = { docs: [], version: "", loaded: false, busy: false, fresh: null, openDoc: null, lastFocus: null };

  // ---- small DOM helpers ----------------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }
  function list(value) {
    if (Array.isArray(value)) return value.filter(function (x) { return x !== null && x !== undefined && x !== ""; });
    return value ? [value] : [];
  }
  function meta(doc) {
    return doc && doc.metadata && typeof doc.metadata === "object" ? doc.metadata : {};
  }

  // ---- token (sessionStorage only) ------------------------------------------------------------------
  function readToken() {
    try { return window.sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }
  function saveToken(value) {
    try {
      if (value) window.sessionStorage.setItem(TOKEN_KEY, value);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage disabled: the token lives in the field only */ }
  }
  function token() {
    return tokenInput.value.trim();
  }
  function showTokenState(kind, text) {
    tokenState.className = "kb-token-state" + (kind ? " " + kind : "");
    tokenState.textContent = text;
    tokenInput.classList.toggle("invalid", kind === "bad");
    if (kind === "bad") tokenInput.setAttribute("aria-invalid", "true");
    else tokenInput.removeAttribute("aria-invalid");
  }
  function describeToken() {
    if (token()) showTokenState("", "已填写令牌(只保存在本标签页)。");
    else showTokenState("", "未填写令牌:只能查看文档列表。");
  }

  // On a phone the optional metadata starts folded, so the document list is not far below the form.
  var metaBox = $("meta-box");
  if (metaBox && window.matchMedia && window.matchMedia("(max-width: 720px)").matches) metaBox.open = false;

  tokenInput.value = readToken();
  describeToken();
  tokenInput.addEventListener("input", function () {
    saveToken(token());
    describeToken();
  });
  $("token-form").addEventListener("submit", function (event) { event.preventDefault(); });
  tokenClear.addEventListener("click", function () {
    tokenInput.value = "";
    saveToken("");
    describeToken();
    tokenInput.focus();
  });

  // ---- server calls -----------------------------------------------------------------------------
  // XMLHttpRequest rather than fetch: it reports upload progress.
  function request(method, url, options) {
    options = options || {};
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("Accept", "application/json");
      if (options.auth) xhr.setRequestHeader("Authorization", "Bearer " + token());
      if (options.onProgress && xhr.upload) {
        xhr.upload.addEventListener("progress", function (event) {
          options.onProgress(event.lengthComputable ? event.loaded / event.total : null, false);
        });
        xhr.upload.addEventListener("load", function () { options.onProgress(1, true); });
      }
      xhr.addEventListener("load", function () {
        var data = null;
        try { data = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch (e) { data = null; }
        if (xhr.status >= 200 && xhr.status < 300 && data !== null) {
          resolve({ status: xhr.status, data: data });
        } else {
          reject(failure(xhr.status, data));
        }
      });
      xhr.addEventListener("error", function () { reject({ status: 0, network: true, message: NETWORK_ERROR }); });
      xhr.addEventListener("abort", function () { reject({ status: 0, network: true, message: "请求已取消。" }); });
      xhr.send(options.body || null);
    });
  }

  function failure(status, data) {
    var message = "";
    if (data && typeof data === "object") {
      message = typeof data.message_zh === "string" && data.message_zh ? data.message_zh
        : (typeof data.message === "string" ? data.message : "");
    }
    if (!message) {
      if (status === 401) message = "缺少或错误的管理令牌";
      else if (status === 403) message = HINT_403;
      else if (status >= 200 && status < 300) message = "服务器返回了无法识别的内容。";
      else message = "服务暂时不可用(HTTP " + status + "),请稍后再试。";
    }
    var hint = "";
    if (status === 401) hint = HINT_401;
    else if (status === 403 && message.indexOf("YIBAO_ADMIN_TOKEN") < 0) hint = HINT_403;
    return { status: status, code: data && data.error, message: message, hint: hint };
  }

  // A failure of a change: also marks the token field on 401/403.
  function noteAuth(err) {
    if (err.status === 401) showTokenState("bad", "令牌无效(HTTP 401):" + err.message);
    else if (err.status === 403) showTokenState("bad", err.message);
  }
  function noteAuthOk() {
    showTokenState("good", "令牌有效(只保存在本标签页)。");
  }

  // ---- result boxes -----------------------------------------------------------------------------
  function showResult(box, kind, title, lines) {
    clear(box);
    box.className = "kb-result " + kind;
    box.setAttribute("role", kind === "error" ? "alert" : "status");
    box.appendChild(el("p", "kb-result-title", title));
    (lines || []).forEach(function (line) {
      if (line) box.appendChild(el("p", "kb-result-line", line));
    });
    box.hidden = false;
  }
  function showError(box, action, err) {
    var title = action + "失败" + (err.status ? "(HTTP " + err.status + ")" : "");
    showResult(box, "error", title, [err.message, err.hint]);
  }
  function changeLines(data) {
    var parts = [];
    if (data.doc_id) parts.push("编号 " + data.doc_id);
    if (typeof data.chunks === "number") parts.push(data.chunks + " 个段落");
    if (data.version) parts.push("知识库版本 " + data.version);
    return parts.join(" · ");
  }

  // ---- busy state: one change at a time -----------------------------------------------------------
  function setBusy(value) {
    state.busy = value;
    uploadButton.disabled = value;
    uploadButton.textContent = value ? "处理中…" : "上传";
    Array.prototype.forEach.call(document.querySelectorAll(".kb-change"), function (control) {
      control.disabled = value;
      var label = control.closest("label");
      if (label) label.classList.toggle("disabled", value);
    });
  }

  function needToken(box) {
    if (token()) return false;
    showResult(box, "error", "请先填写管理令牌",
      ["上传、替换和删除需要管理令牌;服务端须设置环境变量 YIBAO_ADMIN_TOKEN 并重启后才能使用。"]);
    showTokenState("bad", "请先填写管理令牌。");
    tokenInput.focus();
    return true;
  }

  // ---- document list ----------------------------------------------------------------------------
  function loadList() {
    refreshButton.disabled = true;
    return request("GET", "/api/documents").then(function (res) {
      var data = res.data || {};
      state.docs = Array.isArray(data.documents) ? data.documents : [];
      state.version = typeof data.version === "string" ? data.version : String(data.version || "");
      state.loaded = true;
      render();
    }, function (err) {
      versionLine.textContent = "文档列表加载失败:" + err.message;
      versionLine.classList.add("error");
    }).then(function () { refreshButton.disabled = false; });
  }

  function haystack(doc) {
    var m = meta(doc);
    return [doc.title, doc.doc_id, ORIGIN_LABELS[doc.origin], STATUS_LABELS[doc.status], m.publisher, m.date,
      m.expires, list(m.regions).join(" "), list(m.insurance_types).join(" ")].join(" ").toLowerCase();
  }

  function textCell(label, value, className) {
    var td = el("td", className || "");
    td.setAttribute("data-label", label);
    if (value === null || value === undefined || value === "") {
      td.classList.add("is-empty");
      td.appendChild(el("span", "kb-dash", "—"));
    } else {
      td.appendChild(el("span", "kb-value", value));
    }
    return td;
  }

  function tag(kind, value, label) {
    return el("span", "kb-tag " + kind + "-" + String(value || "unknown").replace(/[^a-z]/g, ""), label || value || "—");
  }

  function render() {
    var docs = state.docs;
    var expired = docs.filter(function (d) { return d.status === "expired"; }).length;
    versionLine.classList.remove("error");
    clear(versionLine);
    versionLine.appendChild(document.createTextNode("知识库版本 "));
    versionLine.appendChild(el("code", "kb-version-id", state.version || "—"));
    versionLine.appendChild(document.createTextNode(" · 共 " + docs.length + " 篇(有效 " + (docs.length - expired) +
      ",已过期 " + expired + ")"));

    var query = filterInput.value.trim().toLowerCase();
    var words = query ? query.split(/\s+/) : [];
    var shown = docs.filter(function (doc) {
      var hay = haystack(doc);
      return words.every(function (w) { return hay.indexOf(w) >= 0; });
    });
    countLine.textContent = words.length ? "显示 " + shown.length + " / " + docs.length + " 篇" : "";

    clear(rows);
    shown.forEach(function (doc) { rows.appendChild(renderRow(doc)); });
    table.hidden = shown.length === 0;
    emptyLine.hidden = shown.length !== 0;
    emptyLine.textContent = docs.length ? "没有符合筛选条件的文档。" : "知识库中还没有文档。";
    setBusy(state.busy);
  }

  function renderRow(doc) {
    var m = meta(doc);
    var tr = el("tr", "kb-row" + (doc.status === "expired" ? " expired" : "") + (state.fresh === doc.doc_id ? " kb-fresh" : ""));
    tr.setAttribute("data-doc-id", doc.doc_id);

    var main = el("td", "kb-doc");
    main.setAttribute("data-label", "文档");
    main.appendChild(el("span", "kb-title", doc.title || "(无标题)"));
    main.appendChild(el("code", "kb-id", doc.doc_id));
    tr.appendChild(main);

    var origin = el("td", "kb-origin");
    origin.setAttribute("data-label", "来源");
    origin.appendChild(tag("origin", doc.origin, ORIGIN_LABELS[doc.origin] || doc.origin));
    tr.appendChild(origin);

    var status = el("td", "kb-status");
    status.setAttribute("data-label", "状态");
    status.appendChild(tag("status", doc.status, STATUS_LABELS[doc.status] || doc.status));
    tr.appendChild(status);

    tr.appendChild(textCell("地区", list(m.regions).join("、"), "kb-regions"));
    tr.appendChild(textCell("日期", m.date, "kb-date"));
    tr.appendChild(textCell("失效", m.expires, "kb-expires"));
    tr.appendChild(textCell("险种", list(m.insurance_types).join("、"), "kb-types"));
    tr.appendChild(textCell("发布单位", m.publisher, "kb-publisher"));
    tr.appendChild(textCell("段落", typeof doc.chunks === "number" ? String(doc.chunks) : "", "kb-num kb-chunks"));

    var ops = el("td", "kb-ops");
    var view = el("button", "kb-btn kb-small kb-view", "查看");
    view.type = "button";
    view.setAttribute("aria-label", "查看《" + (doc.title || doc.doc_id) + "》全文");
    view.addEventListener("click", function () { openPanel(doc, view); });
    ops.appendChild(view);

    // 替换: a label around a visually hidden file input, so the file picker opens without script
    var replace = el("label", "kb-btn kb-small kb-replace");
    replace.appendChild(document.createTextNode("替换"));
    var picker = el("input", "sr-only kb-change kb-replace-file");
    picker.type = "file";
    picker.accept = uploadFile.accept;
    picker.setAttribute("aria-label", "选择新文件替换《" + (doc.title || doc.doc_id) + "》");
    picker.addEventListener("change", function () {
      var file = picker.files && picker.files[0];
      picker.value = "";
      if (file) replaceDocument(doc, file);
    });
    replace.appendChild(picker);
    ops.appendChild(replace);

    var remove = el("button", "kb-btn kb-small kb-danger kb-change kb-delete", "删除");
    remove.type = "button";
    remove.setAttribute("aria-label", "删除《" + (doc.title || doc.doc_id) + "》");
    remove.addEventListener("click", function () { deleteDocument(doc); });
    ops.appendChild(remove);
    tr.appendChild(ops);
    return tr;
  }

  filterInput.addEventListener("input", function () { if (state.loaded) render(); });
  refreshButton.addEventListener("click", function () { loadList(); });

  // ---- confirmation dialog ------------------------------------------------------------------------
  function confirmAction(text, okLabel) {
    if (!dialog || typeof dialog.showModal !== "function") return Promise.resolve(window.confirm(text));
    $("confirm-text").textContent = text;
    $("confirm-ok").textContent = okLabel || "确定";
    dialog.returnValue = "";
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        resolve(dialog.returnValue === "ok");
      });
      dialog.showModal();
      $("confirm-cancel").focus();
    });
  }

  // ---- changes ----------------------------------------------------------------------------------
  function collectMetadata() {
    var data = {};
    Array.prototype.forEach.call(uploadForm.querySelectorAll("[data-meta]"), function (input) {
      var value = input.value.trim();
      if (!value) return;
      if (input.getAttribute("data-list")) {
        var items = value.split(/[,,、;;]+/).map(function (s) { return s.trim(); }).filter(Boolean);
        if (items.length) data[input.getAttribute("data-meta")] = items;
      } else {
        data[input.getAttribute("data-meta")] = value;
      }
    });
    var types = Array.prototype.filter.call(uploadForm.querySelectorAll("input[name=insurance_types]"),
      function (box) { return box.checked; }).map(function (box) { return box.value; });
    if (types.length) data.insurance_types = types;
    return data;
  }

  function progressReporter() {
    uploadProgress.hidden = false;
    uploadProgress.value = 0;
    uploadBusy.textContent = "正在上传…";
    return function (fraction, done) {
      if (done) {
        uploadProgress.removeAttribute("value"); // indeterminate: the server parses, chunks and embeds
        uploadBusy.textContent = "已上传,服务器正在解析、切分并建立索引…";
      } else if (fraction !== null) {
        uploadProgress.value = Math.round(fraction * 100);
        uploadBusy.textContent = "正在上传 " + Math.round(fraction * 100) + "%";
      }
    };
  }
  function progressDone() {
    uploadProgress.hidden = true;
    uploadProgress.value = 0;
    uploadBusy.textContent = "";
  }

  uploadForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (state.busy) return;
    var file = uploadFile.files && uploadFile.files[0];
    if (!file) {
      showResult(uploadResult, "error", "请先选择要上传的文件", ["支持 .txt .md .html .htm .pdf .docx。"]);
      uploadFile.focus();
      return;
    }
    if (needToken(uploadResult)) return;
    var body = new FormData();
    body.append("file", file, file.name);
    var metadata = collectMetadata();
    if (Object.keys(metadata).length) body.append("metadata", JSON.stringify(metadata));

    uploadResult.hidden = true;
    setBusy(true);
    request("POST", "/api/documents", { auth: true, body: body, onProgress: progressReporter() }).then(function (res) {
      var data = res.data;
      noteAuthOk();
      var created = res.status === 201 || data.created === true;
      showResult(uploadResult, "ok", (created ? "已添加:" : "内容相同的文档已存在,未重复添加:") + "《" + data.title + "》",
        [changeLines(data)]);
      state.fresh = data.doc_id;
      uploadForm.reset();
      return loadList();
    }, function (err) {
      noteAuth(err);
      showError(uploadResult, "上传", err);
    }).then(function () {
      progressDone();
      setBusy(false);
    });
  });

  function replaceDocument(doc, file) {
    if (state.busy) return;
    if (needToken(listResult)) return;
    confirmAction("用文件“" + file.name + "”替换《" + (doc.title || doc.doc_id) + "》?替换后旧内容不再被引用。", "替换")
      .then(function (ok) {
        if (!ok) return null;
        var body = new FormData();
        body.append("file", file, file.name);
        setBusy(true);
        showResult(listResult, "busy", "正在替换《" + (doc.title || doc.doc_id) + "》…", ["服务器正在解析、切分并建立索引。"]);
        return request("PUT", "/api/documents/" + encodeURIComponent(doc.doc_id), { auth: true, body: body })
          .then(function (res) {
            noteAuthOk();
            showResult(listResult, "ok", "已替换:《" + res.data.title + "》", [changeLines(res.data)]);
            state.fresh = res.data.doc_id;
            if (state.openDoc && state.openDoc.doc_id === doc.doc_id) closePanel();
            return loadList();
          }, function (err) {
            noteAuth(err);
            showError(listResult, "替换", err);
          }).then(function () { setBusy(false); });
      });
  }

  function deleteDocument(doc) {
    if (state.busy) return;
    if (needToken(listResult)) return;
    var note = doc.origin === "corpus" ? "这是语料文件夹中的文章,删除后重建索引时也不会再加入。" : "";
    confirmAction("删除《" + (doc.title || doc.doc_id) + "》(" + doc.doc_id + ")?删除后不再用于回答。" + note, "删除")
      .then(function (ok) {
        if (!ok) return null;
        setBusy(true);
        showResult(listResult, "busy", "正在删除《" + (doc.title || doc.doc_id) + "》…");
        return request("DELETE", "/api/documents/" + encodeURIComponent(doc.doc_id), { auth: true })
          .then(function (res) {
            noteAuthOk();
            showResult(listResult, "ok", "已删除:《" + (doc.title || doc.doc_id) + "》",
              ["编号 " + doc.doc_id + (res.data.version ? " · 知识库版本 " + res.data.version : "")]);
            if (state.fresh === doc.doc_id) state.fresh = null;
            if (state.openDoc && state.openDoc.doc_id === doc.doc_id) closePanel();
            return loadList();
          }, function (err) {
            noteAuth(err);
            showError(listResult, "删除", err);
          }).then(function () { setBusy(false); });
      });
  }

  // ---- document panel ---------------------------------------------------------------------------
  function chip(text, className) {
    panelMeta.appendChild(el("span", "chip" + (className ? " " + className : ""), text));
  }

  function fillMeta(doc, m) {
    clear(panelMeta);
    chip(ORIGIN_LABELS[doc.origin] || doc.origin || "—", "kb-chip-origin");
    if (doc.status) chip(STATUS_LABELS[doc.status] || doc.status, doc.status === "expired" ? "kb-chip-expired" : "");
    list(m.regions).forEach(function (r) { chip(r, "region"); });
    chip(m.date ? "发布日期 " + m.date : "未注明日期");
    if (m.effective_from) chip("生效 " + m.effective_from);
    if (m.expires) chip("失效 " + m.expires);
    if (m.publisher) chip(m.publisher);
    list(m.insurance_types).forEach(function (t) { chip(t); });
    if (typeof doc.chunks === "number") chip(doc.chunks + " 个段落");
    chip(doc.doc_id, "kb-chip-id");
    if (typeof m.source_url === "string" && /^https?:\/\//i.test(m.source_url)) {
      var link = el("a", "chip kb-chip-link", "原文链接");
      link.href = m.source_url;
      link.title = m.source_url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      panelMeta.appendChild(link);
    }
  }

  function openPanel(doc, button) {
    if (panel.hidden) state.lastFocus = button || document.activeElement;
    state.openDoc = doc;
    panelTitle.textContent = doc.title || doc.doc_id;
    fillMeta(doc, meta(doc));
    clear(docText);
    docText.appendChild(el("span", "kb-loading", "正在加载全文…"));
    panelNote.textContent = "";
    panel.hidden = false;
    scrim.hidden = false;
    docText.scrollTop = 0;
    panelClose.focus({ preventScroll: true });
    request("GET", "/api/documents/" + encodeURIComponent(doc.doc_id)).then(function (res) {
      if (state.openDoc !== doc) return;
      var text = String(res.data.text || "");
      clear(docText);
      docText.textContent = text;
      fillMeta(doc, res.data.metadata && typeof res.data.metadata === "object" ? res.data.metadata : meta(doc));
      panelNote.textContent = "清洗后的全文,共 " + text.length + " 字;回答中的引用都取自这段文字。";
    }, function (err) {
      if (state.openDoc !== doc) return;
      clear(docText);
      docText.appendChild(el("span", "kb-load-error", "全文加载失败" + (err.status ? "(HTTP " + err.status + ")" : "") +
        ":" + err.message));
    });
  }

  function closePanel() {
    panel.hidden = true;
    scrim.hidden = true;
    state.openDoc = null;
    var back = state.lastFocus;
    state.lastFocus = null;
    if (back && document.body.contains(back)) back.focus({ preventScroll: true });
  }

  panelClose.addEventListener("click", closePanel);
  scrim.addEventListener("click", closePanel);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden && !(dialog && dialog.open)) closePanel();
  });

  loadList();
})();
