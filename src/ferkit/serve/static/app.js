// ferkit's browser app: photos, webcam and background jobs through the /v1 API (no external files, no CDN).
"use strict";

const COLOURS = { angry: "#dc2828", disgust: "#288c28", fear: "#a03ca0", happy: "#f0c828", sad: "#2878c8",
  surprise: "#ff8c1e", neutral: "#aaaaaa", contempt: "#8c5a5a" };
const $ = (id) => document.getElementById(id);
const records = [];  // every photo's face records, for the downloads

function headers(extra = {}) {
  const key = $("api-key").value.trim();
  return key ? { ...extra, "X-API-Key": key } : extra;
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers || {}) });
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error || message; } catch (_) { /* not JSON */ }
    throw new Error(`${response.status}: ${message}`);
  }
  return response;
}

function pct(p) { return `${Math.round(p * 100)}%`; }

// Boxes and labels over an image or video, in percent of its natural size (they scale with it).
function drawFaces(overlay, faces, width, height) {
  overlay.replaceChildren();
  for (const f of faces) {
    const [x1, y1, x2, y2] = f.box;
    const box = document.createElement("div");
    box.className = "face-box" + (f.uncertain ? " uncertain" : "");
    box.style.setProperty("--c", COLOURS[f.emotion] || "#f5c400");
    Object.assign(box.style, { left: `${(100 * x1) / width}%`, top: `${(100 * y1) / height}%`,
      width: `${(100 * (x2 - x1)) / width}%`, height: `${(100 * (y2 - y1)) / height}%` });
    const label = document.createElement("span");
    label.className = "face-label";
    label.textContent = `${f.emotion}${f.uncertain ? "?" : ""} ${pct(f.probabilities[f.emotion])}`;
    box.title = Object.entries(f.probabilities).map(([k, v]) => `${k} ${pct(v)}`).join(", ");
    box.append(label);
    overlay.append(box);
  }
}

function faceCards(faces) {
  const grid = document.createElement("div");
  grid.className = "faces";
  faces.forEach((f, i) => {
    const card = document.createElement("div");
    card.className = "face-card";
    const title = document.createElement("strong");
    title.textContent = `Face ${i + 1}: ${f.emotion}${f.uncertain ? " (uncertain)" : ""}`;
    card.append(title);
    for (const [name, p] of Object.entries(f.probabilities).sort((a, b) => b[1] - a[1])) {
      const row = document.createElement("div");
      row.className = "bar";
      row.setAttribute("role", "img");
      row.setAttribute("aria-label", `${name} ${pct(p)}`);
      const fill = document.createElement("div");
      fill.className = "fill";
      fill.style.width = pct(p);
      fill.style.setProperty("--c", COLOURS[name] || "#999");
      const track = document.createElement("div");
      track.append(fill);
      row.append(Object.assign(document.createElement("span"), { textContent: name }), track,
        Object.assign(document.createElement("span"), { textContent: pct(p) }));
      card.append(row);
    }
    grid.append(card);
  });
  return grid;
}

// ---- Photos -------------------------------------------------------------------------------------------------
async function analysePhoto(file) {
  const figure = document.createElement("figure");
  figure.className = "photo";
  const caption = document.createElement("figcaption");
  caption.textContent = `${file.name}: analysing...`;
  const stage = document.createElement("div");
  stage.className = "stage";
  const img = document.createElement("img");
  img.alt = file.name;
  img.src = URL.createObjectURL(file);
  const overlay = document.createElement("div");
  overlay.className = "overlay";
  stage.append(img, overlay);
  figure.append(caption, stage);
  $("photos").prepend(figure);
  try {
    const body = new FormData();
    body.append("file", file, file.name);
    const result = await (await api("/v1/analyze", { method: "POST", body })).json();
    drawFaces(overlay, result.faces, result.width, result.height);
    caption.textContent = `${file.name}: ${result.faces.length} face${result.faces.length === 1 ? "" : "s"} ` +
      `(${result.ms} ms)`;
    figure.append(faceCards(result.faces));
    figure.dataset.faces = result.faces.length;
    records.push(...result.faces);
  } catch (e) {
    caption.textContent = `${file.name}: ${e.message}`;
    caption.className = "error";
  }
}

async function analysePhotos(files) {
  const list = [...files].filter((f) => f.type.startsWith("image/") || /\.(jpe?g|png|bmp|webp|tiff?)$/i.test(f.name));
  $("photo-status").textContent = `Analysing ${list.length} photo${list.length === 1 ? "" : "s"}...`;
  await Promise.all(list.map(analysePhoto));
  $("photo-status").textContent = `Done: ${records.length} faces in all.`;
  for (const id of ["download-json", "download-csv", "clear-photos"]) $(id).disabled = records.length === 0;
}

function download(name, text, type) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
}

function toCSV(rows) {
  const classes = rows.length ? Object.keys(rows[0].probabilities) : [];
  const head = ["source", "face", "score", "emotion", "x1", "y1", "x2", "y2", ...classes.map((c) => `p_${c}`)];
  const lines = rows.map((r) => [r.source, r.face, r.score, r.emotion, ...r.box, ...classes.map((c) => r.probabilities[c])]
    .map((v) => (typeof v === "string" && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)).join(","));
  return [head.join(","), ...lines].join("\n") + "\n";
}

// ---- Webcam -------------------------------------------------------------------------------------------------
let stream = null;
async function webcamLoop() {
  const video = $("webcam");
  const canvas = document.createElement("canvas");
  while (stream) {
    if (video.videoWidth === 0) { await new Promise((r) => setTimeout(r, 100)); continue; }
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    const blob = await new Promise((r) => canvas.toBlob(r, "image/jpeg", 0.85));
    try {
      const result = await (await api("/v1/analyze", { method: "POST", body: blob,
        headers: { "Content-Type": "image/jpeg" } })).json();
      if (stream) drawFaces($("webcam-overlay"), result.faces, result.width, result.height);
      $("webcam-status").textContent = `${result.faces.length} face${result.faces.length === 1 ? "" : "s"}, ` +
        `${result.ms} ms per frame`;
    } catch (e) {
      $("webcam-status").textContent = e.message;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function startWebcam() {
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (e) {
    $("webcam-status").textContent = `No webcam: ${e.message}`;
    return;
  }
  $("webcam").srcObject = stream;
  $("webcam-start").disabled = true;
  $("webcam-stop").disabled = false;
  webcamLoop();
}

function stopWebcam() {
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
  $("webcam-overlay").replaceChildren();
  $("webcam-start").disabled = false;
  $("webcam-stop").disabled = true;
  $("webcam-status").textContent = "Stopped.";
}

// ---- Jobs (video or zip) --------------------------------------------------------------------------------------
let job = null;
async function startJob(file) {
  $("job-result").replaceChildren();
  const body = new FormData();
  body.append("file", file, file.name);
  try {
    job = await (await api("/v1/jobs", { method: "POST", body })).json();
  } catch (e) {
    $("job-status").textContent = e.message;
    return;
  }
  $("job-cancel").disabled = false;
  $("job-progress").hidden = false;
  while (job && ["queued", "running"].includes(job.state)) {
    await new Promise((r) => setTimeout(r, 500));
    if (!job) break;
    job = await (await api(`/v1/jobs/${job.id}`)).json();
    $("job-progress").value = job.progress;
    $("job-status").textContent = `${job.state}: ${job.frames_done} of ${job.frames_total || "?"} frames` +
      (job.eta_s != null ? `, about ${Math.ceil(job.eta_s)} s left` : "");
  }
  $("job-cancel").disabled = true;
  if (job && job.state === "done") showJob(job);
  else if (job) $("job-status").textContent = `${job.state}${job.error ? ": " + job.error : ""}`;
}

async function blobURL(path) { return URL.createObjectURL(await (await api(path)).blob()); }

async function showJob(done) {
  $("job-status").textContent = "Done.";
  const out = $("job-result");
  const base = `/v1/jobs/${done.id}`;
  const links = document.createElement("p");
  for (const [file, path, label] of [["results", "results", "results.json"], ["csv", "results?format=csv", "results.csv"],
    ["summary", "summary", "summary.json"], ["annotated", "annotated", "annotated video"]]) {
    if (!done.files.includes(file)) continue;
    const a = document.createElement("a");
    a.textContent = label;
    a.href = "#";
    a.addEventListener("click", async (ev) => {
      ev.preventDefault();
      const link = document.createElement("a");
      link.href = await blobURL(`${base}/${path}`);
      link.download = label.replace(" ", "_");
      link.click();
    });
    links.append(a, " ");
  }
  out.append(links);
  if (done.files.includes("emotions.png")) {
    const chart = document.createElement("img");
    chart.alt = "Emotions over time";
    chart.src = await blobURL(`${base}/emotions.png`);
    out.append(chart);
  }
  if (done.files.includes("annotated")) {
    const video = document.createElement("video");
    video.controls = true;
    video.src = await blobURL(`${base}/annotated`);
    video.append("This browser cannot play the annotated video: download it above.");
    out.append(video);
  }
}

async function cancelJob() {
  if (!job) return;
  await api(`/v1/jobs/${job.id}`, { method: "DELETE" });
  $("job-status").textContent = "Cancelled.";
  job = null;
  $("job-cancel").disabled = true;
}

// ---- Wiring -------------------------------------------------------------------------------------------------
function selectTab(tab) {
  for (const t of document.querySelectorAll('[role="tab"]')) {
    const on = t === tab;
    t.setAttribute("aria-selected", on);
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !on;
  }
  tab.focus();
}

document.querySelectorAll('[role="tab"]').forEach((tab, i, tabs) => {
  tab.addEventListener("click", () => selectTab(tab));
  tab.addEventListener("keydown", (e) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (step) selectTab(tabs[(i + step + tabs.length) % tabs.length]);
  });
});
$("photo-input").addEventListener("change", (e) => analysePhotos(e.target.files));
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); analysePhotos(e.dataTransfer.files); });
$("download-json").addEventListener("click", () => download("ferkit_results.json", JSON.stringify(records, null, 2), "application/json"));
$("download-csv").addEventListener("click", () => download("ferkit_results.csv", toCSV(records), "text/csv"));
$("clear-photos").addEventListener("click", () => { records.length = 0; $("photos").replaceChildren();
  $("photo-status").textContent = ""; for (const id of ["download-json", "download-csv", "clear-photos"]) $(id).disabled = true; });
$("webcam-start").addEventListener("click", startWebcam);
$("webcam-stop").addEventListener("click", stopWebcam);
$("video-input").addEventListener("change", (e) => e.target.files[0] && startJob(e.target.files[0]));
$("job-cancel").addEventListener("click", cancelJob);
$("api-key").value = sessionStorage.getItem("ferkit-api-key") || "";
$("api-key").addEventListener("change", (e) => sessionStorage.setItem("ferkit-api-key", e.target.value));
