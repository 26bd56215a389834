// caseledger dashboard: sortable tables, the supplier filter, selects that submit their form, and
// Forbrug's cells leading to what they are made of.
// Plain JavaScript, no libraries. The pages work without it; it only sorts and filters what is shown.
// Filters and sort are kept in the address (sort, dir, q, old), so a reload or a shared link shows
// the same; the server reads q and old too, for the first paint and for the workbook.
"use strict";

const KEPT = ["sort", "dir", "q", "old"];

function remember(changes) {
  // Replace (not push) the address's parameters: the back button keeps leaving the page.
  const url = new URL(window.location.href);
  for (const [name, value] of Object.entries(changes)) {
    if (value === null || value === "") url.searchParams.delete(name);
    else url.searchParams.set(name, value);
  }
  window.history.replaceState(null, "", url);
}

function columnOf(table, header) {
  // The column a header stands over, walking the grid that row and column spans make.
  const grid = [];
  const rows = table.tHead.rows;
  for (let r = 0; r < rows.length; r += 1) {
    grid[r] = grid[r] || [];
    let c = 0;
    for (const cell of rows[r].cells) {
      while (grid[r][c]) c += 1;
      for (let dr = 0; dr < cell.rowSpan; dr += 1) {
        grid[r + dr] = grid[r + dr] || [];
        for (let dc = 0; dc < cell.colSpan; dc += 1) grid[r + dr][c + dc] = cell;
      }
      if (cell === header) return c;
      c += cell.colSpan;
    }
  }
  return -1;
}

function sortKey(table, header) {
  // What the address calls a column: its key or month where it has one (they survive a change of
  // period), else its position.
  return header.dataset.key || header.dataset.month || String(columnOf(table, header));
}

function cellValue(row, index, kind) {
  const cell = row.cells[index];
  if (!cell) return kind === "number" ? -Infinity : "";
  // A cell's value is its data-value, else its exact amount (Forbrug's cells), else its text; an
  // empty amount ("–") counts as nothing.
  const raw = cell.dataset.value ?? cell.dataset.amount ?? cell.textContent.trim().toLowerCase();
  if (kind !== "number") return raw;
  return raw === "–" ? 0 : Number(raw);
}

function sortBy(table, header, direction) {
  const index = columnOf(table, header);
  const kind = header.dataset.sort;
  const descending = direction ? direction === "desc" : header.getAttribute("aria-sort") === "ascending";
  for (const other of table.tHead.querySelectorAll("th[aria-sort]")) other.removeAttribute("aria-sort");
  header.setAttribute("aria-sort", descending ? "descending" : "ascending");
  const body = table.tBodies[0];
  const collator = new Intl.Collator("da");
  const rows = Array.from(body.rows).sort((a, b) => {
    const x = cellValue(a, index, kind);
    const y = cellValue(b, index, kind);
    const order = kind === "number" ? x - y : collator.compare(x, y);
    return descending ? -order : order;
  });
  for (const row of rows) body.appendChild(row);
  remember({ sort: sortKey(table, header), dir: descending ? "desc" : "asc" });
}

function sortPaged(table, header) {
  // A paged table (data-paged: Forbrug's, when big) shows one page of its rows, which the server
  // sorted over all of them: a new sort is asked for in the address, from the first page.
  const descending = header.getAttribute("aria-sort") === "ascending";
  const url = new URL(window.location.href);
  url.searchParams.set("sort", sortKey(table, header));
  url.searchParams.set("dir", descending ? "desc" : "asc");
  url.searchParams.delete("page");
  window.location.assign(url);
}

function markSorted(table, header, direction) {
  for (const other of table.tHead.querySelectorAll("th[aria-sort]")) other.removeAttribute("aria-sort");
  header.setAttribute("aria-sort", direction === "desc" ? "descending" : "ascending");
}

function makeSortable(table) {
  const asked = new URL(window.location.href).searchParams;
  const paged = table.hasAttribute("data-paged");
  const sort = paged ? sortPaged : sortBy;
  for (const header of table.querySelectorAll("thead th[data-sort]")) {
    if (asked.get("sort") === sortKey(table, header)) {
      const direction = asked.get("dir") === "desc" ? "desc" : "asc";
      if (paged) markSorted(table, header, direction);
      else sortBy(table, header, direction);
    }
    header.tabIndex = 0;
    header.addEventListener("click", () => sort(table, header));
    header.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        sort(table, header);
      }
    });
  }
}

// Money is summed in øre (integers) and written back both ways: "1234.50" and "1.234,50 kr.".
function toOre(text) {
  const negative = text.startsWith("-");
  const [whole, fraction = "00"] = text.replace("-", "").split(".");
  const ore = parseInt(whole, 10) * 100 + parseInt((fraction + "00").slice(0, 2), 10);
  return negative ? -ore : ore;
}

function plainAmount(ore) {
  const sign = ore < 0 ? "-" : "";
  const abs = Math.abs(ore);
  return sign + Math.floor(abs / 100) + "." + String(abs % 100).padStart(2, "0");
}

function grouped(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
}

// As the server writes them: "1.760" for a count, "1.234,50 kr." with a non-breaking space for money.
function count(value) {
  return grouped(String(value));
}

function kroner(ore) {
  const [whole, cents] = plainAmount(ore).split(".");
  return grouped(whole) + "," + cents + "\u00a0kr.";
}

function filterSuppliers() {
  const table = document.getElementById("suppliers");
  if (!table) return;
  const text = document.getElementById("filter-text");
  const old = document.getElementById("filter-old");
  const apply = () => {
    const words = text.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    let active = 0;
    let committed = 0;
    for (const row of table.tBodies[0].rows) {
      const visible =
        words.every((word) => row.dataset.search.includes(word)) && (!old.checked || row.dataset.old === "ja");
      row.hidden = !visible;
      if (!visible) continue;
      shown += 1;
      active += Number(row.querySelector("td.active").dataset.value);
      committed += toOre(row.querySelector("td.committed").dataset.amount);
    }
    document.getElementById("shown-count").textContent = count(shown);
    document.getElementById("shown-active").textContent = count(active);
    const sum = document.getElementById("shown-committed");
    sum.dataset.amount = plainAmount(committed);
    sum.textContent = kroner(committed);
  };
  const kept = () => {
    remember({ q: text.value.trim(), old: old.checked ? "1" : null });
    const link = document.querySelector("a[data-testid=export]");
    if (link) {
      const url = new URL(link.href);
      url.searchParams.delete("q");
      url.searchParams.delete("old");
      if (text.value.trim()) url.searchParams.set("q", text.value.trim());
      if (old.checked) url.searchParams.set("old", "1");
      link.href = url.pathname + url.search;
    }
  };
  text.addEventListener("input", () => { apply(); kept(); });
  old.addEventListener("change", () => { apply(); kept(); });
  apply();
}

function keepStateOnSubmit(form) {
  // A filter form's GET replaces the address: carry the sort and the supplier filter along.
  form.addEventListener("submit", () => {
    const asked = new URL(window.location.href).searchParams;
    for (const name of KEPT) {
      if (asked.has(name) && !form.elements.namedItem(name) && form.querySelector(`[data-kept="${name}"]`) === null) {
        const hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = name;
        hidden.value = asked.get(name);
        hidden.dataset.kept = name;
        form.appendChild(hidden);
      }
    }
  });
}

function monthPickers(form) {
  // Two selects (month, year) per bound; submitted as one from=YYYY-MM / to=YYYY-MM, as the server
  // and the report endpoint name them, instead of four parameters.
  const pickers = form.querySelectorAll("[data-month-picker]");
  if (!pickers.length) return;
  form.addEventListener("submit", () => {
    for (const picker of pickers) {
      const month = picker.querySelector("select[data-part=month]");
      const year = picker.querySelector("select[data-part=year]");
      const hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = picker.dataset.monthPicker;
      hidden.value = `${year.value}-${month.value}`;
      form.appendChild(hidden);
      month.removeAttribute("name");
      year.removeAttribute("name");
    }
  });
}

function cellLinks(table) {
  // Forbrug: an amount cell opens what it is made of (/dashboard/forbrug/celle). One listener on
  // the table for clicks and keys, nothing per cell; one cell at a time is in the Tab order (the
  // arrow keys move it), so Tab does not stop at thousands of cells.
  const base = table.dataset.cellLink;
  if (!base) return;
  const months = Array.from(table.tHead.rows[0].cells).map((header) => header.dataset.month);
  const linked = (cell) =>
    cell && cell.tagName === "TD" && cell.dataset.amount !== undefined && !cell.classList.contains("total")
    && cell.parentElement.parentElement === table.tBodies[0] && !cell.parentElement.dataset.others;
  const open = (cell) => {
    const url = new URL(base, window.location.href);
    url.searchParams.set("month", months[cell.cellIndex]);
    const key = cell.parentElement.dataset.key;
    if (key) url.searchParams.set("key", key);
    window.location.assign(url.pathname + url.search);
  };
  let current = Array.from(table.tBodies[0].querySelectorAll("td[data-amount]")).find(linked);
  if (!current) return;
  current.tabIndex = 0;
  const move = (cell) => {
    if (!cell || cell.tagName !== "TD") return;
    current.removeAttribute("tabindex");
    current = cell;
    current.tabIndex = 0;
    current.focus();
  };
  table.addEventListener("click", (event) => {
    const cell = event.target.closest("td");
    if (linked(cell)) open(cell);
  });
  table.addEventListener("keydown", (event) => {
    const cell = event.target.closest("td");
    if (!cell || cell !== current) return;
    const row = cell.parentElement;
    const rows = table.tBodies[0].rows;
    const steps = {
      ArrowRight: () => row.cells[cell.cellIndex + 1],
      ArrowLeft: () => row.cells[cell.cellIndex - 1],
      ArrowDown: () => rows[row.sectionRowIndex + 1] && rows[row.sectionRowIndex + 1].cells[cell.cellIndex],
      ArrowUp: () => rows[row.sectionRowIndex - 1] && rows[row.sectionRowIndex - 1].cells[cell.cellIndex],
    };
    if (steps[event.key]) {
      event.preventDefault();
      move(steps[event.key]());
    } else if ((event.key === "Enter" || event.key === " ") && linked(cell)) {
      event.preventDefault();
      open(cell);
    }
  });
}

function curtain(table) {
  // Forbrug's frame: the month scrolled half under the sticky "I alt" column is covered up to its
  // left edge (the width in --curtain, drawn by the "I alt" cells' ::before), so no digit of it
  // peeks out beside the totals; a footer total is as wide as its column, so its first digit did.
  // Not on a phone, where "I alt" scrolls with the months.
  const frame = table.closest(".framed");
  const heads = Array.from(table.tHead.rows[0].cells);
  const [label, total] = [heads[0], heads[heads.length - 1]];
  if (!frame || heads.length < 3) return;
  let pending = false;
  const update = () => {
    pending = false;
    let width = 0;
    if (getComputedStyle(total).right !== "auto") {
      const edge = total.getBoundingClientRect().left;
      const start = label.getBoundingClientRect().right;
      const half = heads.slice(1, -1).find((head) => {
        const box = head.getBoundingClientRect();
        return box.left < edge - 0.5 && box.right > edge + 0.5;
      });
      if (half) width = edge - Math.max(half.getBoundingClientRect().left, start);
    }
    table.style.setProperty("--curtain", `${Math.max(0, Math.ceil(width))}px`);
  };
  const later = () => {
    if (!pending) { pending = true; requestAnimationFrame(update); }
  };
  frame.addEventListener("scroll", later, { passive: true });
  window.addEventListener("resize", later);
  update();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table.sortable")) makeSortable(table);
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
  for (const form of document.querySelectorAll("form.filters")) {
    monthPickers(form);
    keepStateOnSubmit(form);
  }
  filterSuppliers();
  const spending = document.getElementById("spending");
  if (spending) {
    cellLinks(spending);
    curtain(spending);
  }
});
