// The five metric cards: each keeps its channel's newest payload and sample history,
// and writes them into the page only when render() is called.

import { PLACEHOLDER, formatBytes, formatFixed, formatPercent, formatRate, isNumber, toNumber } from './format.js';
import { SampleRing, Sparkline } from './sparkline.js';

// Samples kept for each sparkline.
export const HISTORY_SAMPLES = 120;

// Percent levels at which bars turn amber and then red (and striped, so the level
// does not depend on colour alone).
const WARN_PERCENT = 70;
const CRIT_PERCENT = 90;

// Traffic on the loopback interface stays on this host, so the network totals leave it out.
const LOOPBACK_INTERFACE = 'lo';

// Creates the cards for the page in `doc`. `onResize(card)` is called when a card's
// sparkline changes size and needs a redraw. Each card has:
//   channel          the livegate channel it shows
//   apply(payload)   stores a payload and appends to the history (no DOM work)
//   clearHistory()   clears the samples, after the server reset the channel
//   render()         writes the newest values and redraws the sparkline
export function createCards(doc, { onResize }) {
  return [cpuCard, memoryCard, loadCard, networkCard, diskCard].map((create) => {
    const card = create(doc, () => onResize(card));
    return card;
  });
}

function cpuCard(doc, onResize) {
  const usage = new SampleRing(HISTORY_SAMPLES);
  const spark = new Sparkline(byId(doc, 'cpu-spark'), {
    series: [{ color: '--series-1' }], min: 0, max: 100, onResize,
  });
  const bars = byId(doc, 'cpu-core-bars');
  let latest = {};

  return {
    channel: 'system.cpu',
    apply(payload) {
      latest = payload;
      usage.push(toNumber(payload.usage_percent));
    },
    clearHistory() {
      usage.clear();
    },
    render() {
      const cores = Array.isArray(latest.cores) ? latest.cores : [];
      const coreCount = isNumber(latest.core_count) ? latest.core_count : cores.length;

      setText(byId(doc, 'cpu-usage'), formatPercent(latest.usage_percent));
      setText(byId(doc, 'cpu-cores'), formatCoreCount(coreCount));
      setText(byId(doc, 'cpu-user'), withUnit(formatPercent(latest.user_percent), '%'));
      setText(byId(doc, 'cpu-system'), withUnit(formatPercent(latest.system_percent), '%'));
      setText(byId(doc, 'cpu-iowait'), withUnit(formatPercent(latest.iowait_percent), '%'));
      setText(byId(doc, 'cpu-steal'), withUnit(formatPercent(latest.steal_percent), '%'));
      renderCoreBars(doc, bars, cores);
      spark.draw([usage]);
    },
  };
}

function formatCoreCount(count) {
  if (!(count > 0))
    return PLACEHOLDER;
  return count === 1 ? '1 core' : `${count} cores`;
}

function renderCoreBars(doc, container, cores) {
  while (container.children.length > cores.length)
    container.lastElementChild.remove();
  while (container.children.length < cores.length) {
    const bar = doc.createElement('div');
    bar.className = 'core-bar';
    bar.setAttribute('role', 'listitem');
    bar.append(doc.createElement('div'));
    bar.firstElementChild.className = 'core-bar-fill';
    container.append(bar);
  }

  cores.forEach((value, index) => {
    const bar = container.children[index];
    const label = `core ${index}: ${formatPercent(value)} %`;
    if (bar.title !== label) {
      bar.title = label;
      bar.setAttribute('aria-label', label);
    }
    setLevel(bar, value);
    bar.firstElementChild.style.transform = `scaleY(${fraction(value)})`;
  });
}

function memoryCard(doc, onResize) {
  const usedPercent = new SampleRing(HISTORY_SAMPLES);
  const spark = new Sparkline(byId(doc, 'memory-spark'), {
    series: [{ color: '--series-1' }], min: 0, max: 100, onResize,
  });
  const meter = byId(doc, 'memory-meter');
  let latest = {};

  return {
    channel: 'system.memory',
    apply(payload) {
      latest = payload;
      usedPercent.push(memoryPercent(payload));
    },
    clearHistory() {
      usedPercent.clear();
    },
    render() {
      const percent = memoryPercent(latest);

      setText(byId(doc, 'memory-used'), formatBytes(latest.used_bytes));
      setText(byId(doc, 'memory-total'), formatBytes(latest.total_bytes));
      setText(byId(doc, 'memory-percent'), withUnit(formatPercent(percent), '% used'));
      setText(byId(doc, 'memory-available'), formatBytes(latest.available_bytes));
      setText(byId(doc, 'memory-cached'), formatBytes(latest.cached_bytes));
      setText(byId(doc, 'memory-buffers'), formatBytes(latest.buffers_bytes));
      setText(byId(doc, 'memory-swap'), formatSwap(latest));

      meter.setAttribute('aria-valuenow', isNumber(percent) ? percent.toFixed(1) : '0');
      setLevel(meter, percent);
      byId(doc, 'memory-meter-fill').style.transform = `scaleX(${fraction(percent)})`;
      spark.draw([usedPercent]);
    },
  };
}

// Uses used_percent when the server sends it and computes it from the byte counts otherwise.
function memoryPercent(payload) {
  if (isNumber(payload.used_percent))
    return payload.used_percent;
  if (isNumber(payload.used_bytes) && isNumber(payload.total_bytes) && payload.total_bytes > 0)
    return (payload.used_bytes / payload.total_bytes) * 100;
  return NaN;
}

function formatSwap(payload) {
  if (!isNumber(payload.swap_total_bytes))
    return PLACEHOLDER;
  if (payload.swap_total_bytes === 0)
    return 'none';
  return `${formatBytes(payload.swap_used_bytes)} of ${formatBytes(payload.swap_total_bytes)}`;
}

function loadCard(doc, onResize) {
  const load1 = new SampleRing(HISTORY_SAMPLES);
  const spark = new Sparkline(byId(doc, 'load-spark'), {
    series: [{ color: '--series-1' }], min: 0, floor: 1, onResize,
  });
  let latest = {};

  return {
    channel: 'system.load',
    apply(payload) {
      latest = payload;
      load1.push(toNumber(payload.load1));
    },
    clearHistory() {
      load1.clear();
    },
    render() {
      setText(byId(doc, 'load1'), formatFixed(latest.load1, 2));
      setText(byId(doc, 'load5'), formatFixed(latest.load5, 2));
      setText(byId(doc, 'load15'), formatFixed(latest.load15, 2));
      setText(byId(doc, 'load-runnable'), formatFixed(latest.runnable, 0));
      setText(byId(doc, 'load-processes'), withUnit(formatFixed(latest.processes, 0), 'processes'));
      spark.draw([load1]);
    },
  };
}

// Bytes per second for sparklines with auto scale: their scale starts at 1 KiB/s.
const RATE_FLOOR_BYTES = 1024;

function networkCard(doc, onResize) {
  const rx = new SampleRing(HISTORY_SAMPLES);
  const tx = new SampleRing(HISTORY_SAMPLES);
  const spark = new Sparkline(byId(doc, 'network-spark'), {
    series: [{ color: '--series-1' }, { color: '--series-2', dashed: true }],
    min: 0, floor: RATE_FLOOR_BYTES, onResize,
  });
  const rows = new RowTable(doc, byId(doc, 'network-rows'), 3, 'no interfaces reported');
  let interfaces = [];

  return {
    channel: 'system.network',
    apply(payload) {
      interfaces = namedItems(payload.interfaces);
      const external = interfaces.filter((item) => item.name !== LOOPBACK_INTERFACE);
      rx.push(sum(external, 'rx_bytes_per_s'));
      tx.push(sum(external, 'tx_bytes_per_s'));
    },
    clearHistory() {
      rx.clear();
      tx.clear();
    },
    render() {
      setText(byId(doc, 'network-rx'), formatRate(latestSample(rx)));
      setText(byId(doc, 'network-tx'), formatRate(latestSample(tx)));
      rows.update(interfaces, (cells, item) => {
        setText(cells[1], formatRate(item.rx_bytes_per_s));
        setText(cells[2], formatRate(item.tx_bytes_per_s));
      });
      spark.draw([rx, tx]);
    },
  };
}

function diskCard(doc, onResize) {
  const read = new SampleRing(HISTORY_SAMPLES);
  const write = new SampleRing(HISTORY_SAMPLES);
  const spark = new Sparkline(byId(doc, 'disk-spark'), {
    series: [{ color: '--series-1' }, { color: '--series-2', dashed: true }],
    min: 0, floor: RATE_FLOOR_BYTES, onResize,
  });
  const rows = new RowTable(doc, byId(doc, 'disk-rows'), 4, 'no devices reported');
  let devices = [];

  return {
    channel: 'system.disk',
    apply(payload) {
      devices = namedItems(payload.devices);
      read.push(sum(devices, 'read_bytes_per_s'));
      write.push(sum(devices, 'write_bytes_per_s'));
    },
    clearHistory() {
      read.clear();
      write.clear();
    },
    render() {
      setText(byId(doc, 'disk-read'), formatRate(latestSample(read)));
      setText(byId(doc, 'disk-write'), formatRate(latestSample(write)));
      rows.update(devices, (cells, item) => {
        setText(cells[1], formatRate(item.read_bytes_per_s));
        setText(cells[2], formatRate(item.write_bytes_per_s));
        setText(cells[3], withUnit(formatPercent(item.busy_percent), '%'));
        setLevel(cells[3], item.busy_percent);
      });
      spark.draw([read, write]);
    },
  };
}

// A table body with one row per named item, reused across updates so that rows
// keep their place; rows of items that disappeared are removed.
class RowTable {
  #doc;
  #body;
  #columns;
  #emptyRow;
  #rows = new Map();

  constructor(doc, body, columns, emptyText) {
    this.#doc = doc;
    this.#body = body;
    this.#columns = columns;
    this.#emptyRow = body.querySelector('tr.empty');
    setText(this.#emptyRow.firstElementChild, emptyText);
  }

  // Shows `items` in order; `fillCells(cells, item)` writes every cell after the name.
  update(items, fillCells) {
    const names = new Set(items.map((item) => item.name));
    for (const [name, row] of this.#rows) {
      if (!names.has(name)) {
        row.remove();
        this.#rows.delete(name);
      }
    }

    // Rows are moved only when the order changed, so a steady list costs no DOM moves.
    let cursor = this.#emptyRow.nextElementSibling;
    for (const item of items) {
      const row = this.#rows.get(item.name) ?? this.#createRow(item.name);
      if (row === cursor)
        cursor = cursor.nextElementSibling;
      else
        this.#body.insertBefore(row, cursor);
      fillCells(row.children, item);
    }
    this.#emptyRow.hidden = items.length > 0;
  }

  #createRow(name) {
    const row = this.#doc.createElement('tr');
    const header = this.#doc.createElement('th');
    header.scope = 'row';
    header.textContent = name;
    row.append(header);
    for (let i = 1; i < this.#columns; i += 1)
      row.append(this.#doc.createElement('td'));
    this.#rows.set(name, row);
    return row;
  }
}

// Appends the unit to a formatted value, but leaves the placeholder for a missing value alone.
function withUnit(text, unit) {
  return text === PLACEHOLDER ? text : `${text} ${unit}`;
}

function byId(doc, id) {
  const element = doc.getElementById(id);
  if (element === null)
    throw new Error(`dashboard markup has no element with id "${id}"`);
  return element;
}

// Writes text only when it changed, so unchanged values cost no DOM work.
function setText(element, text) {
  if (element.textContent !== text)
    element.textContent = text;
}

function setLevel(element, percent) {
  let level = 'ok';
  if (percent >= CRIT_PERCENT)
    level = 'crit';
  else if (percent >= WARN_PERCENT)
    level = 'warn';
  if (element.dataset.level !== level)
    element.dataset.level = level;
}

function fraction(percent) {
  return isNumber(percent) ? Math.min(1, Math.max(0, percent / 100)) : 0;
}

// Returns the entries of a list that have a name, ignoring anything else the server sends.
function namedItems(list) {
  if (!Array.isArray(list))
    return [];
  return list.filter((item) => item !== null && typeof item === 'object' && typeof item.name === 'string');
}

// Sums a field over the items; NaN when no item has a number there.
function sum(items, field) {
  const values = items.map((item) => item[field]).filter(isNumber);
  return values.length === 0 ? NaN : values.reduce((total, value) => total + value, 0);
}

function latestSample(ring) {
  return ring.length === 0 ? NaN : ring.at(ring.length - 1);
}
