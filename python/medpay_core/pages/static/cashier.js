(function () {
  "use strict";
  var doc = document, body = doc.body;
  function $(id) { return doc.getElementById(id); }
  function lock() {
    var open = doc.querySelector("#mp-detail:not([hidden]),.mp-dialog-wrap:not([hidden])");
    body.classList.toggle("mp-lock", !!open);
  }
  function show(el) { if (el) { el.hidden = false; lock(); } }
  function hide(el) { if (el) { el.hidden = true; lock(); } }
  function setText(el, text) { if (el && text != null) { el.textContent = String(text); } }

  var api = {
    openDetail: function () { show($("mp-detail")); },
    closeDetail: function () { hide($("mp-detail")); },
    showPageLoading: function (text) {
      setText(doc.querySelector("#mp-page-loading .mp-page-loading-text"), text);
      show($("mp-page-loading"));
    },
    hidePageLoading: function () { hide($("mp-page-loading")); },
    showLoading: function (text) {
      setText(doc.querySelector("#mp-loading .mp-loading-text"), text);
      show($("mp-loading"));
    },
    hideLoading: function () { hide($("mp-loading")); },
    // Runtime dialogs: built with textContent only (never innerHTML).
    dialog: function (title, message, buttons) {
      return new Promise(function (resolve) {
        var wrap = doc.createElement("div");
        wrap.className = "mp-dialog-wrap";
        wrap.id = "mp-dialog-" + Date.now();
        wrap.setAttribute("data-kind", buttons.length === 1 ? "one" : "two");
        var box = doc.createElement("div");
        box.className = "mp-dialog";
        box.setAttribute("role", "alertdialog");
        box.setAttribute("aria-modal", "true");
        var h = doc.createElement("h2"); h.className = "mp-dialog-title"; h.textContent = title;
        var p = doc.createElement("p"); p.className = "mp-dialog-msg"; p.textContent = message;
        var row = doc.createElement("div"); row.className = "mp-dialog-btns";
        buttons.forEach(function (label, i) {
          var b = doc.createElement("button");
          b.type = "button";
          b.className = "mp-dialog-btn" + (i === buttons.length - 1 ? " is-primary" : "");
          b.textContent = label;
          b.addEventListener("click", function () { wrap.remove(); lock(); resolve(i); });
          row.appendChild(b);
        });
        box.appendChild(h); box.appendChild(p); box.appendChild(row); wrap.appendChild(box);
        body.appendChild(wrap); lock();
      });
    },
    alert: function (title, message, button) {
      return api.dialog(title, message, [button || "我知道了"]).then(function () { return true; });
    },
    confirm: function (title, message, cancel, ok) {
      return api.dialog(title, message, [cancel || "取消", ok || "确定"]).then(function (i) { return i === 1; });
    }
  };
  window.MedpayCashier = api;

  doc.addEventListener("click", function (ev) {
    var t = ev.target.closest("[data-action]");
    if (!t) { return; }
    var action = t.getAttribute("data-action");
    if (action === "open-detail") { ev.preventDefault(); api.openDetail(); }
    else if (action === "close-detail") {
      // the sheet wrapper closes only on clicks outside the sheet itself
      if (t.classList.contains("mp-sheet-wrap") && ev.target !== t) { return; }
      api.closeDetail();
    }
    else if (action.indexOf("open-dialog:") === 0) { show($(action.slice(12))); }
    else if (action === "close") { hide(t.closest(".mp-dialog-wrap")); }
    else if (action.indexOf("href:") === 0) {
      hide(t.closest(".mp-dialog-wrap"));
      api.showPageLoading("正在返回，请稍候");
      window.location.href = action.slice(5);
    }
  });
  doc.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && !$("mp-detail").hidden) { api.closeDetail(); }
  });

  // Multi-channel: keep the selected row's look in step with its radio.
  doc.addEventListener("change", function (ev) {
    if (!ev.target.classList.contains("mp-radio-input")) { return; }
    doc.querySelectorAll(".mp-channel").forEach(function (row) {
      var input = row.querySelector(".mp-radio-input");
      row.classList.toggle("is-selected", !!(input && input.checked));
    });
  });

  var form = $("mp-pay-form"), btn = $("mp-pay-btn");
  if (form) {
    form.addEventListener("submit", function (ev) {
      if (form.getAttribute("data-submitting") === "1") { ev.preventDefault(); return; }
      form.setAttribute("data-submitting", "1");
      if (btn) { btn.disabled = true; }
      api.showLoading("支付中");
    });
  }
  // Back from the next page (bfcache): the page is live again.
  window.addEventListener("pageshow", function (ev) {
    if (ev.persisted && form) {
      form.removeAttribute("data-submitting");
      if (btn) { btn.disabled = false; }
      api.hideLoading(); api.hidePageLoading();
    }
  });
  lock();
})();
