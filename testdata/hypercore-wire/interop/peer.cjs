// A real Node hypercore 11 peer for folio's interop tests (hypercore/node_test.go).
// usage: HYPERCORE_DIR=<dir with hypercore 11.37.1 installed> node peer.cjs '<json options>'
//   options: role "writer"|"reader", dir (storage), blocks, size (writer),
//            key (reader, hex), listen true | connect "host:port", initiator bool
// stdout: one JSON object per line: {"event":"ready",port,key,length,treeHash},
//         {"event":"state",length,compat,treeHash,digest} ...
// stdin:  one JSON command per line: {"append":n} (writer), {"wait":n} (reader:
//         wait until length >= n with every block downloaded, then report state),
//         {"get":i} (reader: core.get(i), waiting for it, report {"event":"got",value}),
//         {"truncate":n} (writer: truncate to n, a new fork; later appends differ),
//         {"fetch":"host:port"} (role "fetcher", with key: download the whole core
//         into a fresh store over a new connection, report {"event":"fetched",ms,length}).
const { createRequire } = require('module')
const path = require('path')
const net = require('net')
const crypto = require('crypto')
const readline = require('readline')
if (!process.env.HYPERCORE_DIR) throw new Error('set HYPERCORE_DIR')
const req = createRequire(path.join(path.resolve(process.env.HYPERCORE_DIR), 'package.json'))
const Hypercore = req('hypercore')
const b4a = req('b4a')

const opts = JSON.parse(process.argv[2])
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')

// block i is "blk-<i>-" padded with '.' to size bytes (or just the label);
// after a truncate, "blk-<i>-f<fork>-".
let fork = 0
function block (i) {
  const s = fork ? `blk-${i}-f${fork}-` : `blk-${i}-`
  return b4a.from(opts.size > s.length ? s + '.'.repeat(opts.size - s.length) : s)
}

async function state (core) {
  const h = crypto.createHash('sha256')
  for (let i = 0; i < core.length; i++) h.update(await core.get(i))
  return { event: 'state', length: core.length, fork: core.fork, compat: core.core.compat, treeHash: b4a.toString(await core.treeHash(), 'hex'), digest: h.digest('hex') }
}

function wire (core, socket, initiator) {
  const s = core.replicate(initiator)
  socket.pipe(s).pipe(socket)
  s.on('error', () => {})
  socket.on('error', () => {})
}

async function main () {
  let core
  if (opts.role === 'writer') {
    const seed = crypto.createHash('sha256').update('folio-interop-writer').digest()
    const kp = req('hypercore-crypto').keyPair(seed)
    core = new Hypercore(opts.dir, { keyPair: kp, compat: true })
    await core.ready()
    const batch = []
    for (let i = 0; i < opts.blocks; i++) batch.push(block(i))
    for (let i = 0; i < batch.length; i += 1000) await core.append(batch.slice(i, i + 1000))
  } else if (opts.role === 'fetcher') {
    return fetcher()
  } else {
    core = new Hypercore(opts.dir, b4a.from(opts.key, 'hex'))
    await core.ready()
  }
  const initiator = !!opts.initiator
  let port = 0
  if (opts.listen) {
    const server = net.createServer((socket) => wire(core, socket, initiator))
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = server.address().port
  } else {
    const [host, p] = opts.connect.split(':')
    wire(core, net.connect(Number(p), host), initiator)
  }
  out({ event: 'ready', port, key: b4a.toString(core.key, 'hex'), length: core.length, treeHash: core.length ? b4a.toString(await core.treeHash(), 'hex') : '' })
  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    const cmd = JSON.parse(line)
    if (cmd.append) {
      const batch = []
      for (let i = 0; i < cmd.append; i++) batch.push(block(core.length + i))
      await core.append(batch)
      out(await state(core))
    } else if (cmd.get !== undefined) {
      const v = await core.get(cmd.get)
      out({ event: 'got', index: cmd.get, value: b4a.toString(v), length: core.length })
    } else if (cmd.truncate !== undefined) {
      await core.truncate(cmd.truncate)
      fork = core.fork
      out(await state(core))
    } else if (cmd.wait !== undefined) {
      while (core.length < cmd.wait) {
        await core.update({ wait: true })
        if (core.length < cmd.wait) await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await core.download({ start: 0, end: core.length }).done()
      out(await state(core))
    }
  }
  await core.close()
  process.exit(0)
}
// fetcher times whole-core downloads, each into a fresh store: from the
// connection to the last block stored (opening the store is not counted).
async function fetcher () {
  out({ event: 'ready' })
  const rl = readline.createInterface({ input: process.stdin })
  let n = 0
  for await (const line of rl) {
    const cmd = JSON.parse(line)
    const core = new Hypercore(path.join(opts.dir, String(n++)), b4a.from(opts.key, 'hex'))
    await core.ready()
    const [host, p] = cmd.fetch.split(':')
    const t0 = process.hrtime.bigint()
    const socket = net.connect(Number(p), host)
    wire(core, socket, true)
    await core.update({ wait: true })
    await core.download({ start: 0, end: core.length }).done()
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    socket.destroy()
    out({ event: 'fetched', ms, length: core.length, treeHash: b4a.toString(await core.treeHash(), 'hex') })
    await core.close()
  }
  process.exit(0)
}

main().catch((e) => { console.error(e); process.exit(1) })
