// Edit mode of the week view (served by the API; no framework, no CDN).
// Click a block, or focus it and press Enter or Space, to edit it in the dialog. Every change is sent
// with the version's ETag (If-Match) and the edit link's token; after a change the page reloads, so
// what you see is always what the server holds.
(() => {
  "use strict";
  const data = JSON.parse(document.getElementById("review-data").textContent);
  const dialog = document.getElementById("editor");
  const form = document.getElementById("entry-form");
  const errors = document.getElementById("form-errors");
  const message = document.getElementById("message");
  const title = document.getElementById("editor-title");
  const deleteButton = document.getElementById("delete-entry");
  const FIELDS = ["subject", "teacher", "room", "group", "day", "start", "end", "period", "kind", "week", "notes"];
  let editing = null; // entry id, or null when adding
  let opener = null;

  function headers() {
    return {"Content-Type": "application/json", "If-Match": data.etag, "X-Edit-Token": data.token};
  }

  async function send(method, path, body) {
    const response = await fetch(data.api + path, {
      method, headers: headers(), body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit", cache: "no-store",
    });
    let problem = null;
    if (!response.ok) {
      try { problem = await response.json(); } catch (e) { problem = {detail: response.statusText}; }
    }
    return {ok: response.ok, status: response.status, problem};
  }

  function explain(result) {
    if (result.status === 412) {
      return "Someone else changed this timetable first. Reload the page to see their change, then redo yours.";
    }
    if (result.problem && Array.isArray(result.problem.reasons)) {
      return "This change was not saved: " + result.problem.reasons.join("; ");
    }
    if (result.problem && Array.isArray(result.problem.errors)) {
      return "This change was not saved: " + result.problem.errors.map(e => `${e.field}: ${e.message}`).join("; ");
    }
    return "This change was not saved: " + ((result.problem && result.problem.detail) || `error ${result.status}`);
  }

  function open(entryId, from) {
    editing = entryId;
    opener = from || null;
    errors.textContent = "";
    const entry = entryId ? data.entries[entryId] : {day: "MON", kind: "lesson"};
    for (const name of FIELDS) {
      form.elements[name].value = entry[name] == null ? "" : entry[name];
    }
    title.textContent = entryId ? "Edit block" : "Add a block";
    deleteButton.hidden = !entryId;
    dialog.showModal();
    form.elements.subject.focus();
  }

  function close() {
    dialog.close();
  }
  // Escape closes the dialog too: either way, the focus goes back to the block that opened it.
  dialog.addEventListener("close", () => { if (opener) opener.focus(); });

  function values() {
    const out = {};
    for (const name of FIELDS) {
      const value = form.elements[name].value.trim();
      const before = editing ? data.entries[editing][name] : null;
      if (editing) {
        if ((before == null ? "" : String(before)) !== value) out[name] = value === "" ? null : value;
      } else if (value !== "") {
        out[name] = value;
      }
    }
    return out;
  }

  async function done(result, text) {
    if (result.ok) {
      sessionStorage.setItem("review-message", text);
      location.reload();
      return;
    }
    const why = explain(result);
    if (dialog.open) errors.textContent = why; else message.textContent = why;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = values();
    if (editing && Object.keys(body).length === 0) { close(); return; }
    if (!form.elements.subject.value.trim()) { errors.textContent = "A block needs a subject."; return; }
    const result = editing
      ? await send("PATCH", `/timetable/entries/${encodeURIComponent(editing)}`, body)
      : await send("POST", "/timetable/entries", body);
    await done(result, editing ? "Block saved." : "Block added.");
  });

  deleteButton.addEventListener("click", async () => {
    if (!editing || !confirm("Delete this block?")) return;
    await done(await send("DELETE", `/timetable/entries/${encodeURIComponent(editing)}`), "Block deleted.");
  });
  document.getElementById("cancel-edit").addEventListener("click", close);
  document.getElementById("add-entry").addEventListener("click", (e) => open(null, e.currentTarget));
  document.getElementById("mark-reviewed").addEventListener("click", async () => {
    await done(await send("POST", "/review"), "Marked as reviewed. Thank you!");
  });

  document.addEventListener("click", (event) => {
    const block = event.target.closest("[data-entry-id]");
    if (block) { open(block.dataset.entryId, block); return; }
    const jump = event.target.closest("[data-focus-entry]");
    if (jump) {
      const target = document.querySelector(`[data-entry-id="${CSS.escape(jump.dataset.focusEntry)}"]`);
      if (target) { target.scrollIntoView({block: "center"}); target.focus(); }
    }
  });
  document.addEventListener("keydown", (event) => {
    const block = event.target.closest && event.target.closest("[data-entry-id]");
    if (block && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      open(block.dataset.entryId, block);
    }
  });

  const note = sessionStorage.getItem("review-message");
  if (note) { message.textContent = note; sessionStorage.removeItem("review-message"); }
})();
