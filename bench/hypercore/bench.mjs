// Hypercore 11 side of folio's benchmark comparison.
//
//   node bench.mjs <shape> [--pages N] [--size N] [--batch N] [--runs N] [--json]
//
// Shapes mirror `folio bench` (devtools/bench.go) and time the same thing:
// each operation is timed on its own and the per-operation latencies are
// summed, so setup, page generation and teardown are not counted.
//
//   append-single  one page per core.append(page)            (default 10,000 pages)
//   append-batch   --batch pages per core.append([...pages])  (default 100,000 pages)
//   get-random     random local gets, core.get(i, { wait: false }), from a core
//                  of --pages pages that was appended in batches of 1000, then
//                  compacted (core.compact()), then read once sequentially
//                  untimed to warm the caches                   (default 100,000 pages)
//   replicate      a reader core downloads a writer's core of --pages pages over
//                  an in-process pipe (writer.replicate(true) piped to
//                  reader.replicate(false): Noise-encrypted, no network), timed
//                  from piping the streams until download().done() (default 100,000)
//   notify         the writer appends one page every 2 ms (--pages appends,
//                  default 2000) to a core the reader downloads live over the
//                  same pipe; latency from append() to the reader's 'append' event
//
// Each run stores into a fresh temporary directory with hypercore's default
// storage (hypercore-storage on RocksDB via rocksdb-native), removed after.
//
// --sync is refused: hypercore 11 has no per-append durability option.
// rocksdb-native passes no WriteOptions to RocksDB (WriteOptions::sync is
// false) and hypercore/hypercore-storage expose no fsync/sync setting, so
// there is no comparable "append-single --sync" on the hypercore side.
//
// Output: one line per run (or one JSON object per run with --json) with the
// same fields as `folio bench --json`; with --runs > 1 also a "median" line
// (the run with the median pages/s), as folio prints it.

import Hypercore from 'hypercore'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const SHAPES = {
  'append-single': 'one page per append (one signature and one RocksDB batch each)',
  'append-batch': '--batch pages per append',
  'get-random': 'random local gets from a core of --pages pages (compacted, warm cache)',
  replicate: 'a reader downloads a core of --pages pages over an in-process pipe',
  notify: 'append one page every 2 ms; latency until the live reader\'s append event'
}

function usage(out) {
  out.write('usage: node bench.mjs <shape> [--pages N] [--size N] [--batch N] [--runs N] [--json]\n\nshapes:\n')
  for (const [name, what] of Object.entries(SHAPES).sort()) out.write(`  ${name.padEnd(14)} ${what}\n`)
  out.write('\nflags:\n')
  out.write('  --pages N   pages to append or read (default 100000; 10000 for append-single)\n')
  out.write('  --size N    page size in bytes (default 1024)\n')
  out.write('  --batch N   pages per append (append-batch) (default 1000)\n')
  out.write('  --runs N    repeat the run N times; with more than one, also print the median (default 1)\n')
  out.write('  --json      print one JSON object per run\n')
  out.write('  --sync      not supported: hypercore 11 has no per-append sync option\n')
}

function parseArgs(argv) {
  const cfg = { shape: null, pages: 0, size: 1024, batch: 1000, runs: 1, json: false, sync: false }
  const ints = new Set(['pages', 'size', 'batch', 'runs'])
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '-h' || a === '--help' || a === '-help') return { help: true }
    if (a.startsWith('-')) {
      let [name, val] = a.replace(/^--?/, '').split('=', 2)
      if (name === 'json' || name === 'sync') {
        cfg[name] = val === undefined ? true : val !== 'false'
        continue
      }
      if (!ints.has(name)) throw new Error(`unknown flag ${a}`)
      if (val === undefined) val = argv[++i]
      const n = Number(val)
      if (!Number.isInteger(n)) throw new Error(`flag --${name} wants an integer, got ${val}`)
      cfg[name] = n
      continue
    }
    if (cfg.shape !== null) throw new Error(`stray argument ${a}`)
    cfg.shape = a
  }
  if (!SHAPES[cfg.shape]) throw new Error(`unknown shape ${JSON.stringify(cfg.shape)}`)
  if (cfg.runs < 1) throw new Error('--runs must be at least 1')
  if (cfg.size <= 0) cfg.size = 1024
  if (cfg.batch <= 0) cfg.batch = 1000
  if (cfg.pages <= 0) cfg.pages = { 'append-single': 10000, notify: 2000 }[cfg.shape] ?? 100000
  return cfg
}

function randomPages(n, size) {
  const buf = crypto.randomBytes(n * size)
  const pages = new Array(n)
  for (let i = 0; i < n; i++) pages[i] = buf.subarray(i * size, (i + 1) * size)
  return pages
}

// A small seeded generator (splitmix64) so every run reads the same indices.
function rng(seed) {
  let s = BigInt(seed)
  const M = (1n << 64n) - 1n
  return function uint64n(n) {
    s = (s + 0x9e3779b97f4a7c15n) & M
    let z = s
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M
    z = z ^ (z >> 31n)
    return Number(z % BigInt(n))
  }
}

async function withCore(fn) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hypercore-bench-'))
  const core = new Hypercore(path.join(tmp, 'db'))
  try {
    await core.ready()
    return await fn(core)
  } finally {
    await core.close()
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

// Latencies are in nanoseconds (Numbers; a single operation is far below 2^53 ns).
async function benchAppend(cfg, batch) {
  return withCore(async (core) => {
    const pages = randomPages(cfg.pages, cfg.size)
    const lat = []
    for (let i = 0; i < pages.length; i += batch) {
      const arg = batch === 1 ? pages[i] : pages.slice(i, Math.min(i + batch, pages.length))
      const t = process.hrtime.bigint()
      await core.append(arg)
      lat.push(Number(process.hrtime.bigint() - t))
    }
    if (core.length !== cfg.pages) throw new Error(`core has length ${core.length}, want ${cfg.pages}`)
    return lat
  })
}

async function benchGet(cfg) {
  return withCore(async (core) => {
    const pages = randomPages(cfg.pages, cfg.size)
    for (let i = 0; i < pages.length; i += 1000) {
      await core.append(pages.slice(i, Math.min(i + 1000, pages.length)))
    }
    // Measure reads on a settled LSM, as a core loaded earlier would be.
    await core.compact()
    const local = { wait: false }
    // One untimed sequential pass warms the caches.
    for (let i = 0; i < cfg.pages; i++) {
      const b = await core.get(i, local)
      if (b === null) throw new Error(`page ${i} missing`)
    }
    const next = rng(12)
    const lat = new Array(cfg.pages)
    for (let i = 0; i < lat.length; i++) {
      const idx = next(cfg.pages)
      const t = process.hrtime.bigint()
      const b = await core.get(idx, local)
      lat[i] = Number(process.hrtime.bigint() - t)
      if (b === null || b.byteLength !== cfg.size) throw new Error(`page ${idx} missing or wrong size`)
    }
    return lat
  })
}

// withPair runs fn with a writer core holding pages (appended in batches of
// 1000, untimed) and an empty reader core of the same key, each in its own
// temporary directory.
async function withPair(pages, fn) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hypercore-bench-'))
  const w = new Hypercore(path.join(tmp, 'writer'))
  let r = null
  try {
    await w.ready()
    for (let i = 0; i < pages.length; i += 1000) await w.append(pages.slice(i, Math.min(i + 1000, pages.length)))
    r = new Hypercore(path.join(tmp, 'reader'), w.key)
    await r.ready()
    return await fn(w, r)
  } finally {
    if (r) await r.close()
    await w.close()
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

// pipe connects the two cores' replication streams in this process.
function pipe(w, r) {
  const a = w.replicate(true)
  const b = r.replicate(false)
  a.pipe(b).pipe(a)
  return () => {
    a.destroy()
    b.destroy()
  }
}

async function benchReplicate(cfg) {
  const pages = randomPages(cfg.pages, cfg.size)
  return withPair(pages, async (w, r) => {
    const t = process.hrtime.bigint()
    const stop = pipe(w, r)
    try {
      await r.download({ start: 0, end: cfg.pages }).done()
      const took = Number(process.hrtime.bigint() - t)
      if (r.contiguousLength !== cfg.pages) throw new Error(`reader holds ${r.contiguousLength} of ${cfg.pages} pages`)
      const last = await r.get(cfg.pages - 1, { wait: false })
      if (last === null || !last.equals(pages[cfg.pages - 1])) throw new Error("the reader's last page is wrong")
      return [took]
    } finally {
      stop()
    }
  })
}

async function benchNotify(cfg) {
  const pages = randomPages(cfg.pages + 1, cfg.size)
  return withPair(pages.slice(0, 1), async (w, r) => {
    const stop = pipe(w, r)
    try {
      r.download({ start: 0, end: -1 }) // live: follow every append
      const waitLength = (n) =>
        new Promise((resolve, reject) => {
          if (r.length >= n) return resolve()
          const timer = setTimeout(() => reject(new Error(`the reader never reached length ${n}`)), 10000)
          const onAppend = () => {
            if (r.length < n) return
            clearTimeout(timer)
            r.off('append', onAppend)
            resolve()
          }
          r.on('append', onAppend)
        })
      await waitLength(1)
      const lat = []
      let next = performance.now()
      for (let i = 1; i < pages.length; i++) {
        next += 2
        const d = next - performance.now()
        if (d > 0) await new Promise((resolve) => setTimeout(resolve, d))
        else next = performance.now() // behind: keep the spacing rather than burst
        const t = process.hrtime.bigint()
        const arrived = waitLength(i + 1)
        await w.append(pages[i])
        await arrived
        lat.push(Number(process.hrtime.bigint() - t))
      }
      return lat
    } finally {
      stop()
    }
  })
}

// fill mirrors BenchResult.fill in devtools/bench.go.
function fill(r, lat) {
  let total = 0
  for (const l of lat) total += l
  r.ops = lat.length
  r.seconds = total / 1e9
  if (r.seconds > 0) {
    r.ops_per_sec = r.ops / r.seconds
    r.pages_per_sec = r.pages / r.seconds
    r.mb_per_sec = (r.pages * r.size) / 1e6 / r.seconds
  }
  lat.sort((a, b) => a - b)
  if (lat.length > 0) {
    r.p50_us = lat[Math.floor(lat.length / 2)] / 1e3
    r.p99_us = lat[Math.min(lat.length - 1, Math.ceil(lat.length * 0.99) - 1)] / 1e3
  }
  return r
}

async function bench(cfg) {
  const r = {
    shape: cfg.shape,
    pages: cfg.pages,
    size: cfg.size,
    batch: cfg.shape === 'append-batch' ? cfg.batch : 1,
    sync: false,
    ops: 0,
    seconds: 0,
    pages_per_sec: 0,
    ops_per_sec: 0,
    mb_per_sec: 0,
    p50_us: 0,
    p99_us: 0
  }
  let lat
  switch (cfg.shape) {
    case 'append-single':
      lat = await benchAppend(cfg, 1)
      break
    case 'append-batch':
      lat = await benchAppend(cfg, cfg.batch)
      break
    case 'get-random':
      lat = await benchGet(cfg)
      break
    case 'replicate':
      lat = await benchReplicate(cfg)
      break
    case 'notify':
      lat = await benchNotify(cfg)
      break
  }
  fill(r, lat)
  if (cfg.shape === 'replicate') {
    // one timed transfer: no per-operation latency
    r.p50_us = 0
    r.p99_us = 0
  }
  return r
}

function print(r, json, label) {
  if (json) {
    console.log(JSON.stringify(label ? { median: r } : r))
    return
  }
  const f = (x, d) => x.toFixed(d)
  console.log(
    `${label ? label + ' ' : ''}${r.shape.padEnd(14)} pages=${r.pages} size=${r.size} batch=${r.batch} sync=${r.sync}  ` +
      `${f(r.pages_per_sec, 0)} pages/s  ${f(r.mb_per_sec, 1)} MB/s  ${f(r.ops_per_sec, 0)} ops/s  ` +
      `p50=${f(r.p50_us, 1)}µs p99=${f(r.p99_us, 1)}µs  (${f(r.seconds, 2)}s)  [hypercore]`
  )
}

async function main() {
  let cfg
  try {
    cfg = parseArgs(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`hypercore bench: ${err.message}\n\n`)
    usage(process.stderr)
    return 2
  }
  if (cfg.help) {
    usage(process.stdout)
    return 0
  }
  if (cfg.sync) {
    process.stderr.write(
      'hypercore bench: --sync is not supported: hypercore 11 has no per-append durability option\n' +
        '(rocksdb-native writes with default RocksDB WriteOptions, sync=false)\n'
    )
    return 2
  }
  const results = []
  for (let i = 0; i < cfg.runs; i++) {
    const r = await bench(cfg)
    results.push(r)
    print(r, cfg.json)
  }
  if (results.length > 1) {
    const s = [...results].sort((a, b) => a.pages_per_sec - b.pages_per_sec)
    print(s[Math.floor(s.length / 2)], cfg.json, 'median')
  }
  return 0
}

process.exitCode = await main()
