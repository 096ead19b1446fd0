// Regenerates folio's hypercore test vectors with hypercore itself.
//
//   node vectors.mjs [--check] [--dir DIR] [NAME.json ...]
//
// Every *.json file in DIR (default ../../testdata/vectors/hypercore) is
// both the recipe and the result: the script reads its inputs (name, seed,
// and per step the op with its blocks, fill or length), replays them on a
// fresh hypercore 11 core in compat mode, and writes the file back with
// every output (publicKey, discoveryKey, each step's `after`, the nodes)
// recomputed. To add a vector, write a file with only the inputs and run
// the script. --check writes nothing and exits 1 if any file would change.
// The format, the fill rule and the node sample are in the vectors'
// README.md; book/vectors_test.go reads the same files.

import Hypercore from 'hypercore'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const SOURCE = 'hypercore 11.37.1 (compat mode: key = Ed25519 public key, no manifest)'
const FULL_NODES = 1000 // more nodes than this: digest + sample instead of the list
const SAMPLE_EVERY = 97 // the sample: nodes whose index is a multiple of this

// fillBlocks expands {count, size, seed}: page j is the first size bytes of
// SHA-256(seed ‖ u64le(j) ‖ u64le(0)) ‖ SHA-256(seed ‖ u64le(j) ‖ u64le(1)) ‖ …
// with seed taken as UTF-8 bytes.
function fillBlocks({ count, size, seed }) {
  if (!Number.isSafeInteger(count) || count < 0 || !Number.isSafeInteger(size) || size < 0 || typeof seed !== 'string') {
    throw new Error(`bad fill ${JSON.stringify({ count, size, seed })}`)
  }
  const s = Buffer.from(seed, 'utf8')
  const ctr = Buffer.alloc(16)
  const blocks = []
  for (let j = 0; j < count; j++) {
    const b = Buffer.alloc(size)
    ctr.writeBigUInt64LE(BigInt(j), 0)
    for (let k = 0, off = 0; off < size; k++, off += 32) {
      ctr.writeBigUInt64LE(BigInt(k), 8)
      crypto.createHash('sha256').update(s).update(ctr).digest().copy(b, off)
    }
    blocks.push(b)
  }
  return blocks
}

// keyPair derives the Ed25519 key pair from a 32-byte seed (sodium layout:
// the secret key is seed ‖ public key).
function keyPair(seed) {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed])
  const priv = crypto.createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
  const spki = crypto.createPublicKey(priv).export({ format: 'der', type: 'spki' })
  const publicKey = spki.subarray(spki.length - 32)
  return { publicKey, secretKey: Buffer.concat([seed, publicKey]) }
}

// verify checks an Ed25519 signature with node's own crypto, so a vector
// is never written with a signature that does not verify.
function verify(msg, sig, publicKey) {
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey])
  return crypto.verify(null, msg, crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' }), sig)
}

const hex = (b) => Buffer.from(b).toString('hex')
const node = (n) => ({ index: n.index, size: n.size, hash: hex(n.hash) })

// generate replays the inputs of v on a fresh core and returns the vector
// with its outputs, keys in the order the files keep.
async function generate(v, dir) {
  const seed = Buffer.from(v.seed, 'hex')
  if (seed.length !== 32) throw new Error(`${v.name}: seed must be 32 bytes of hex`)
  const core = new Hypercore(dir, { keyPair: keyPair(seed), compat: true })
  await core.ready()
  try {
    const steps = []
    for (const [i, s] of v.steps.entries()) {
      const out = { op: s.op }
      if (s.op === 'append') {
        if ((s.blocks === undefined) === (s.fill === undefined)) throw new Error(`${v.name} step ${i}: append needs blocks or fill`)
        const blocks = s.fill ? fillBlocks(s.fill) : s.blocks.map((b) => Buffer.from(b, 'hex'))
        if (s.fill) out.fill = { count: s.fill.count, size: s.fill.size, seed: s.fill.seed }
        else out.blocks = s.blocks
        await core.append(blocks)
      } else if (s.op === 'truncate') {
        out.length = s.length
        await core.truncate(s.length)
      } else {
        throw new Error(`${v.name} step ${i}: unknown op ${s.op}`)
      }
      // A tree batch of the current state gives the 80 bytes a compat
      // signer signs (the signer itself calls signableCompat on a batch).
      const tree = core.state.createTreeBatch()
      const signable = tree.signableCompat(false)
      if (!verify(signable, core.state.signature, core.key)) throw new Error(`${v.name} step ${i}: signature does not verify`)
      out.after = {
        length: core.length,
        byteLength: core.byteLength,
        fork: core.fork,
        treeHash: hex(tree.hash()),
        roots: core.state.roots.map(node),
        signable: hex(signable),
        signature: hex(core.state.signature)
      }
      steps.push(out)
    }
    return { name: v.name, source: SOURCE, seed: v.seed, publicKey: hex(core.key), discoveryKey: hex(core.discoveryKey), steps, ...(await nodes(core)) }
  } finally {
    await core.close()
  }
}

// within reports whether flat-tree node i lies in a tree of length pages:
// the last page it spans, (i + 2^depth - 1) / 2, is below length.
function within(i, length) {
  let depth = 0
  while ((i >> depth) & 1) depth++
  return (i + 2 ** depth - 1) / 2 < length
}

// nodes lists every tree node of the final state in index order, or for a
// big tree their count, SHA-256 over u64le(index) ‖ u64le(size) ‖ hash of
// each, and the sample.
async function nodes(core) {
  const all = []
  const batch = core.state.createTreeBatch()
  for (let i = 0; i < 2 * core.length; i++) {
    if (!within(i, core.length)) continue // storage may keep nodes a truncate cut off
    const n = await batch.get(i)
    if (!n) throw new Error(`node ${i} missing`)
    all.push(node(n))
  }
  if (all.length <= FULL_NODES) return { nodes: all }
  const h = crypto.createHash('sha256')
  const le = Buffer.alloc(16)
  for (const n of all) {
    le.writeBigUInt64LE(BigInt(n.index), 0)
    le.writeBigUInt64LE(BigInt(n.size), 8)
    h.update(le).update(Buffer.from(n.hash, 'hex'))
  }
  return { nodeCount: all.length, nodesDigest: h.digest('hex'), nodes: all.filter((n) => n.index % SAMPLE_EVERY === 0) }
}

async function main() {
  const args = process.argv.slice(2)
  let dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'testdata', 'vectors', 'hypercore')
  let check = false
  const names = []
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--check') check = true
    else if (args[i] === '--dir') dir = args[++i]
    else if (args[i].startsWith('-')) throw new Error(`usage: node vectors.mjs [--check] [--dir DIR] [NAME.json ...]`)
    else names.push(args[i])
  }
  const files = names.length ? names : fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  if (files.length === 0) throw new Error(`no *.json in ${dir}`)
  let changed = 0
  for (const f of files) {
    const file = path.join(dir, f)
    const before = fs.readFileSync(file, 'utf8')
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-vectors-'))
    let text
    try {
      text = JSON.stringify(await generate(JSON.parse(before), tmp), null, 1) + '\n'
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true })
    }
    const same = text === before
    if (!same) changed++
    if (!same && !check) fs.writeFileSync(file, text)
    console.log(`${f}: ${same ? 'unchanged' : check ? 'DIFFERS' : 'written'} (${text.length} bytes)`)
  }
  if (check && changed) process.exit(1)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
