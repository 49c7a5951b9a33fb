/* Remote assisted service: the session page's live part. Everything here improves a page
   that also works without it (chat form, consent and proposal forms post normally).
   - a WebSocket to /assist/ws/<session> carries signalling, chat and "look again" events;
   - WebRTC two-way audio/video (the assistant makes the offer), screen sharing on desktop;
   - refusal or no support for camera/microphone: chat only, and the callback request. */
(function () {
  "use strict";
  var root = document.getElementById("assist");
  if (!root) return;
  var role = root.dataset.role;
  var status = root.dataset.status;
  var sessionId = root.dataset.session;
  var iceServers = [];
  try { iceServers = JSON.parse(root.dataset.ice || "[]"); } catch (e) { iceServers = []; }
  var stateBox = document.getElementById("call-state");
  var socket = null;
  var pc = null;
  var localStream = null;
  var pendingCandidates = [];
  var cameraTrack = null;
  // Each offer has an id: when both pages say hello at once, answers and candidates of an
  // older offer are recognised and dropped instead of breaking the newer connection.
  var negotiation = 0;
  var mediaMode = null; // told to the other side once the socket is open

  function setState(state, text) {
    if (!stateBox) return;
    stateBox.dataset.state = state;
    stateBox.textContent = text;
  }

  function labels() {
    var d = document.documentElement.lang || "";
    var zh = d.indexOf("zh") === 0;
    var ug = d.indexOf("ug") === 0;
    var hant = d === "zh-Hant" || d === "zh-TW";
    function pick(hans, hantText, en, ugText) { return ug ? ugText : (zh ? (hant ? hantText : hans) : en); }
    return {
      waiting: pick("正在连接对方…", "正在連接對方…", "Connecting…", "ئۇلىنىۋاتىدۇ…"),
      connected: pick("通话中", "通話中", "In the call", "سۆزلىشىۋاتىدۇ"),
      lost: pick("连接中断，正在重试…", "連接中斷，正在重試…", "Connection lost, retrying…", "ئۇلىنىش ئۈزۈلدى، قايتا سىنىلىۋاتىدۇ…"),
      chatOnly: pick("仅文字交流", "僅文字交流", "Chat only", "پەقەت يېزىق ئارقىلىق"),
      mute: pick("静音", "靜音", "Mute", "ئاۋازنى ئۆچۈرۈش"),
      unmute: pick("取消静音", "取消靜音", "Unmute", "ئاۋازنى ئېچىش"),
      camOff: pick("关闭摄像头", "關閉攝像頭", "Camera off", "كامېرانى تاقاش"),
      camOn: pick("打开摄像头", "打開攝像頭", "Camera on", "كامېرانى ئېچىش"),
      peerChat: pick("对方无法使用摄像头或麦克风，请用文字交流", "對方無法使用攝像頭或麥克風，請用文字交流", "The other side cannot use camera or microphone: use the chat", "قارشى تەرەپ كامېرا ياكى مىكروفون ئىشلىتەلمەيدۇ، يېزىق ئارقىلىق ئالاقىلىشىڭ")
    };
  }
  var L = labels();

  function trigger(part) {
    document.body.dispatchEvent(new CustomEvent("assist-" + part));
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/assist/ws/" + sessionId);
    socket.addEventListener("message", function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      handle(message);
    });
    socket.addEventListener("close", function (event) {
      if (event.code === 4410) { location.reload(); return; }
      if (event.code === 4403 || event.code === 4404) return;
      setTimeout(connect, 2000);
    });
  }

  function handle(message) {
    switch (message.type) {
      case "ready":
        if (status === "active") {
          if (mediaMode) send({ type: "media", mode: mediaMode });
          send({ type: "hello" });
        }
        break;
      case "queue": trigger("live"); break;
      case "taken": location.reload(); break;
      case "ended": location.reload(); break;
      case "refresh": (message.parts || []).forEach(trigger); break;
      case "chat": appendChat(message); break;
      case "hello":
        if (!message.reply) send({ type: "hello", reply: true });
        if (role === "assistant") startOffer();
        break;
      case "signal": onSignal(message.data || {}); break;
      case "media":
        if (message.mode === "chat") setState(stateBox.dataset.state, L.peerChat);
        break;
    }
  }

  /* Chat -------------------------------------------------------------------------------- */
  function appendChat(message) {
    var log = document.getElementById("chat-log");
    var form = document.getElementById("chat-form");
    if (!log || !form) return;
    var li = document.createElement("li");
    var mine = message.from === role;
    li.className = "assist-chat__line assist-chat__line--" + (mine ? "mine" : "theirs");
    var who = document.createElement("span");
    who.className = "assist-chat__who";
    who.textContent = (mine ? form.dataset.me : form.dataset.them) + " · " + message.at;
    var text = document.createElement("span");
    text.className = "assist-chat__text";
    text.textContent = message.text;
    li.appendChild(who);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(text);
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.id !== "chat-form" || !socket || socket.readyState !== WebSocket.OPEN) return;
    event.preventDefault();
    var input = form.querySelector("input[name=text]");
    if (!input.value.trim()) return;
    send({ type: "chat", text: input.value });
    input.value = "";
  });

  /* Media and the peer connection ------------------------------------------------------- */
  function supported() {
    return !!(window.RTCPeerConnection && navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  function fallback() {
    var box = document.getElementById("media-fallback");
    if (box) box.hidden = false;
    var local = document.getElementById("local-video");
    if (local) local.hidden = true;
    setState("chat", L.chatOnly);
    mediaMode = "chat";
  }

  function getMedia() {
    if (!supported()) { fallback(); return Promise.resolve(null); }
    return navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } })
      .catch(function () { return navigator.mediaDevices.getUserMedia({ audio: true }); })
      .then(function (stream) {
        localStream = stream;
        var local = document.getElementById("local-video");
        if (local) local.srcObject = stream;
        cameraTrack = stream.getVideoTracks()[0] || null;
        mediaMode = cameraTrack ? "video" : "audio";
        showTools();
        return stream;
      })
      .catch(function () { fallback(); return null; });
  }

  function showTools() {
    var mic = document.getElementById("toggle-mic");
    var cam = document.getElementById("toggle-cam");
    var share = document.getElementById("share-screen");
    if (mic) {
      mic.hidden = false;
      mic.textContent = L.mute;
      mic.addEventListener("click", function () {
        var track = localStream.getAudioTracks()[0];
        if (!track) return;
        track.enabled = !track.enabled;
        mic.textContent = track.enabled ? L.mute : L.unmute;
        mic.setAttribute("aria-pressed", String(!track.enabled));
      });
    }
    if (cam && cameraTrack) {
      cam.hidden = false;
      cam.textContent = L.camOff;
      cam.addEventListener("click", function () {
        cameraTrack.enabled = !cameraTrack.enabled;
        cam.textContent = cameraTrack.enabled ? L.camOff : L.camOn;
        cam.setAttribute("aria-pressed", String(!cameraTrack.enabled));
      });
    }
    var desktop = !/Android|iPhone|iPad|Mobile|MicroMessenger/.test(navigator.userAgent);
    if (share && cameraTrack && desktop && navigator.mediaDevices.getDisplayMedia) {
      share.hidden = false;
      share.addEventListener("click", shareScreen);
    }
  }

  function videoSender() {
    if (!pc) return null;
    return pc.getSenders().filter(function (s) { return s.track && s.track.kind === "video"; })[0] || null;
  }

  function shareScreen() {
    navigator.mediaDevices.getDisplayMedia({ video: true }).then(function (screen) {
      var track = screen.getVideoTracks()[0];
      var sender = videoSender();
      if (!sender || !track) return;
      sender.replaceTrack(track);
      track.addEventListener("ended", function () { sender.replaceTrack(cameraTrack); });
    }).catch(function () { /* the person chose not to share */ });
  }

  function newPeer() {
    if (pc) pc.close();
    pendingCandidates = [];
    pc = new RTCPeerConnection({ iceServers: iceServers });
    window.assistPeer = pc; // read by the browser test and handy when debugging
    if (localStream) {
      localStream.getTracks().forEach(function (track) { pc.addTrack(track, localStream); });
    }
    pc.addEventListener("icecandidate", function (event) {
      if (event.candidate) send({ type: "signal", data: { id: negotiation, candidate: event.candidate.toJSON() } });
    });
    pc.addEventListener("track", function (event) {
      var remote = document.getElementById("remote-video");
      if (remote && event.streams[0] && remote.srcObject !== event.streams[0]) remote.srcObject = event.streams[0];
    });
    pc.addEventListener("connectionstatechange", function () {
      var state = pc.connectionState;
      if (state === "connected") setState(state, localStream ? L.connected : L.chatOnly);
      else if (state === "failed" || state === "disconnected") setState(state, L.lost);
      else setState(state, L.waiting);
    });
    return pc;
  }

  function startOffer() {
    if (!supported()) return;
    negotiation = Date.now();
    var peer = newPeer();
    ["audio", "video"].forEach(function (kind) {
      var has = peer.getSenders().some(function (s) { return s.track && s.track.kind === kind; });
      if (!has) peer.addTransceiver(kind, { direction: "recvonly" });
    });
    peer.createOffer()
      .then(function (offer) { return peer.setLocalDescription(offer); })
      .then(function () { send({ type: "signal", data: { id: negotiation, description: peer.localDescription.toJSON() } }); });
  }

  function onSignal(data) {
    if (!supported()) return;
    if (data.description && data.description.type === "offer") negotiation = data.id;
    else if (data.id !== negotiation) return;
    if (data.description) {
      var description = data.description;
      if (description.type === "offer") {
        var peer = newPeer();
        peer.setRemoteDescription(description)
          .then(flushCandidates)
          .then(function () { return peer.createAnswer(); })
          .then(function (answer) { return peer.setLocalDescription(answer); })
          .then(function () { send({ type: "signal", data: { id: negotiation, description: peer.localDescription.toJSON() } }); });
      } else if (pc) {
        pc.setRemoteDescription(description).then(flushCandidates);
      }
    } else if (data.candidate) {
      if (pc && pc.remoteDescription) pc.addIceCandidate(data.candidate).catch(function () {});
      else pendingCandidates.push(data.candidate);
    }
  }

  function flushCandidates() {
    var waiting = pendingCandidates;
    pendingCandidates = [];
    waiting.forEach(function (c) { pc.addIceCandidate(c).catch(function () {}); });
  }

  if (status === "active") {
    setState("new", L.waiting);
    getMedia().then(connect);
  } else if (status === "waiting") {
    connect();
  }
})();
