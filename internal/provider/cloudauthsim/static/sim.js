/* Script of the Cloudauth simulator's sandbox page (plain ES2020, no
   dependencies, no build step). Progressive enhancement: without it the
   page is one screen whose form POSTs outcome to <verify_url>/complete;
   this script only adds the steps and the optional camera preview. The
   preview is never recorded, captured or uploaded: the stream goes to the
   <video> element and nowhere else, and its tracks are stopped when the
   camera step is left, the form is submitted or the page is hidden.

   Stable element ids (browser tests rely on them):
     #sim-start            button, step 1 → step 2 (camera)
     #sim-camera           <video>, the live preview in the round frame
     #sim-camera-status    role=status / aria-live message of the camera
                           step, e.g. "未检测到摄像头，沙箱可以不用摄像头继续。"
     #sim-camera-next      button, step 2 → step 3; enabled once the
                           preview runs
     #sim-skip-camera      button, step 2 → step 3 without the camera
     #sim-step-1, #sim-step-2, #sim-step-3
                           the step screens (#sim-step-3 is the <form>)
     #sim-progress-1..3    the step indicator; the current one has
                           aria-current="step"
     button[name=outcome][value=pass|face_mismatch|liveness_attack|cancel]
                           the outcome buttons (form submit buttons)
   <html> carries class "js" and data-sim-step="1|2|3" (the current step). */
"use strict";

(() => {
  const root = document.documentElement;
  // Runs in <head>, before the first paint: the page never shows the
  // no-JavaScript layout and then jumps.
  root.classList.add("js");
  root.dataset.simStep = "1";

  const NO_CAMERA = "未检测到摄像头，沙箱可以不用摄像头继续。";

  let stream = null;
  let step = 1;
  let cameraRequest = 0; // identifies the latest getUserMedia call
  let submitting = false;

  const $ = (id) => document.getElementById(id);

  function stopCamera() {
    cameraRequest++;
    if (stream) {
      for (const track of stream.getTracks()) track.stop();
      stream = null;
    }
    const video = $("sim-camera");
    if (video) {
      video.pause();
      video.srcObject = null;
    }
    const frame = $("sim-frame");
    if (frame) frame.classList.remove("live", "waiting");
  }

  function setStatus(text, isError) {
    const status = $("sim-camera-status");
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  function goTo(n, moveFocus) {
    if (n !== 2) stopCamera();
    step = n;
    root.dataset.simStep = String(n);
    for (let i = 1; i <= 3; i++) {
      const li = $("sim-progress-" + i);
      if (!li) continue;
      if (i === n) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
      li.classList.toggle("done", i < n);
    }
    if (moveFocus) {
      const heading = $("sim-step-" + n + "-title");
      if (heading) heading.focus();
    }
    if (n === 2) startCamera();
  }

  function cameraError(err) {
    const name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError") {
      return NO_CAMERA + "（浏览器未允许使用摄像头）";
    }
    if (name === "NotReadableError" || name === "AbortError") {
      return NO_CAMERA + "（摄像头可能正被其他程序使用）";
    }
    return NO_CAMERA;
  }

  async function startCamera() {
    const frame = $("sim-frame");
    const video = $("sim-camera");
    const next = $("sim-camera-next");
    next.disabled = true;
    frame.classList.remove("off", "live");
    const md = navigator.mediaDevices;
    if (!md || typeof md.getUserMedia !== "function") {
      frame.classList.add("off");
      setStatus(NO_CAMERA, true);
      return;
    }
    const request = ++cameraRequest;
    frame.classList.add("waiting");
    setStatus("正在打开摄像头……如果浏览器询问，请允许使用摄像头，或直接跳过。", false);
    try {
      const s = await md.getUserMedia({ video: { facingMode: "user" }, audio: false });
      if (request !== cameraRequest || step !== 2) {
        // The tester left the step while the browser was asking.
        for (const track of s.getTracks()) track.stop();
        return;
      }
      stream = s;
      video.srcObject = s;
      try {
        await video.play();
      } catch (_) {
        // autoplay of a muted video is allowed; if not, the frame stays
        // empty and the tester can still go on.
      }
      if (request !== cameraRequest) return;
      frame.classList.remove("waiting");
      frame.classList.add("live");
      next.disabled = false;
      setStatus("摄像头已打开：请把脸放在圆框内。这只是模拟，画面不会被录制或上传。", false);
    } catch (err) {
      if (request !== cameraRequest) return;
      frame.classList.remove("waiting");
      frame.classList.add("off");
      setStatus(cameraError(err), true);
    }
  }

  function init() {
    const start = $("sim-start");
    const form = $("sim-step-3");
    if (!start || !form) return; // a result page: nothing to enhance

    start.addEventListener("click", () => goTo(2, true));
    $("sim-camera-next").addEventListener("click", () => goTo(3, true));
    $("sim-skip-camera").addEventListener("click", () => goTo(3, true));

    form.addEventListener("submit", (event) => {
      // The browser's own form POST does the work; a second click while
      // it is under way is ignored. (Disabling the buttons here would drop
      // the clicked button's outcome from the form data.)
      if (submitting) {
        event.preventDefault();
        return;
      }
      submitting = true;
      stopCamera();
      form.classList.add("submitting");
      form.setAttribute("aria-busy", "true");
    });

    window.addEventListener("pagehide", stopCamera);
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) {
        submitting = false;
        form.classList.remove("submitting");
        form.removeAttribute("aria-busy");
        goTo(1, false);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
