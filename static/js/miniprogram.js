/* Inside the WeChat mini-program's web-view only: hand "back" and the share card to the
   mini-program (wx.miniProgram). Pages work the same without it. */
(function () {
  "use strict";
  var wx = window.wx;
  function ready() {
    if (window.__wxjs_environment !== "miniprogram" || !wx || !wx.miniProgram) {
      return;
    }
    document.documentElement.classList.add("in-miniprogram");
    document.addEventListener("click", function (event) {
      var back = event.target.closest && event.target.closest("[data-mp-back]");
      if (back) {
        event.preventDefault();
        wx.miniProgram.navigateBack();
      }
    });
    var title = document.querySelector('meta[name="mp-share-title"]');
    wx.miniProgram.postMessage({
      data: {
        title: title ? title.content : document.title,
        path: location.pathname + location.search
      }
    });
  }
  if (window.WeixinJSBridge || window.__wxjs_environment) {
    ready();
  } else {
    document.addEventListener("WeixinJSBridgeReady", ready, false);
  }
})();
