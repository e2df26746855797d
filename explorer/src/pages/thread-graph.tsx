import { Graph, layout } from '@dagrejs/dagre'
import type { Claim, LinkKind, Thread } from '../api.js'
import { href } from '../router.js'

/** How each kind of link is drawn and named: colour and dash pattern both differ, so that neither alone carries it. */
export const LINK_STYLES: Record<LinkKind, { verb: string; description: string }> = {
  rebuts: { verb: 'rebuts', description: 'solid red line' },
  supports: { verb: 'supports', description: 'dashed green line' },
  repeats: { verb: 'repeats', description: 'thin grey line of dots and dashes' },
  corrects: { verb: 'corrects', description: 'dotted blue line' },
  retracts: { verb: 'retracts', description: 'long-dashed purple line' },
}
const KINDS = Object.keys(LINK_STYLES) as LinkKind[]

const NODE_WIDTH = 230
const LINE_HEIGHT = 16
const CHARS_PER_LINE = 32
const MAX_LINES = 3

interface Node {
  claim: Claim
  lines: string[]
}

interface Edge {
  id: string
  kind: LinkKind
  from: string
  to: string
}

/** The claim's words cut into a few lines that fit a node; the whole text is the node's accessible name. */
function wrap(text: string): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + word.length + 1 > CHARS_PER_LINE) {
      lines.push(line)
      line = ''
    }
    line = line === '' ? word : `${line} ${word}`
  }
  if (line !== '') lines.push(line)
  if (lines.length <= MAX_LINES) return lines
  const kept = lines.slice(0, MAX_LINES)
  kept[MAX_LINES - 1] = clip(`${kept[MAX_LINES - 1]} …`, CHARS_PER_LINE)
  return kept
}

function clip(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`
}

/** The claims and links of a thread, each claim once. */
function graphOf(thread: Thread): { nodes: Map<string, Node>; edges: Edge[] } {
  const nodes = new Map<string, Node>([[thread.claim.id, { claim: thread.claim, lines: wrap(thread.claim.text) }]])
  const edges = new Map<string, Edge>()
  for (const entry of [...thread.answers, ...thread.responses]) {
    if (!nodes.has(entry.claim.id)) nodes.set(entry.claim.id, { claim: entry.claim, lines: wrap(entry.claim.text) })
    const { id, kind, from_claim_id: from, to_claim_id: to } = entry.link
    edges.set(id, { id, kind, from, to })
  }
  // A link whose far end lies beyond the depth read is left out of the drawing (the list says so).
  return { nodes, edges: [...edges.values()].filter((edge) => nodes.has(edge.from) && nodes.has(edge.to)) }
}

function nodeHeight(node: Node): number {
  return 22 + LINE_HEIGHT * node.lines.length + 8
}

/**
 * The thread as a graph: each claim a box, each link an arrow from the response to what it answers, laid out by
 * dagre (answered claims above their responses), and the same links as a list for those who do not see it.
 */
export function ThreadGraph({ thread }: { thread: Thread }) {
  const { nodes, edges } = graphOf(thread)
  const graph = new Graph({ multigraph: true })
  graph.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 56, marginx: 8, marginy: 8 })
  graph.setDefaultEdgeLabel(() => ({}))
  for (const [id, node] of nodes) graph.setNode(id, { width: NODE_WIDTH, height: nodeHeight(node) })
  // Laid out from what is answered to its answers, so that a thread reads from the top down.
  for (const edge of edges) graph.setEdge(edge.to, edge.from, {}, edge.id)
  layout(graph)
  const size = graph.graph()
  const width = Math.max(NODE_WIDTH + 16, Math.ceil(size.width ?? 0))
  const height = Math.ceil(size.height ?? 0)
  const kinds = KINDS.filter((kind) => edges.some((edge) => edge.kind === kind))

  return (
    <figure class="thread">
      <svg
        class="thread-graph"
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        role="group"
        aria-labelledby="thread-caption"
      >
        <defs>
          {KINDS.map((kind) => (
            <marker
              key={kind}
              id={`arrow-${kind}`}
              class={`arrow arrow-${kind}`}
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="7"
              markerHeight="7"
              orient="auto-start-reverse"
            >
              <path d="M 0 0 L 10 5 L 0 10 z" />
            </marker>
          ))}
        </defs>
        {edges.map((edge) => {
          const points = graph.edge(edge.to, edge.from, edge.id).points ?? []
          // Drawn from the response to what it answers: the layout's points, reversed.
          const d = [...points]
            .reverse()
            .map((point, index) => `${index === 0 ? 'M' : 'L'} ${point.x.toFixed(1)} ${point.y.toFixed(1)}`)
            .join(' ')
          return <path key={edge.id} class={`edge edge-${edge.kind}`} d={d} data-kind={edge.kind} aria-hidden="true" />
        })}
        {[...nodes].map(([id, node]) => {
          const { x = 0, y = 0 } = graph.node(id)
          const h = nodeHeight(node)
          const focus = id === thread.claim.id
          return (
            <a key={id} href={href(`/claims/${id}`)} data-claim-id={id} aria-current={focus ? 'page' : undefined}>
              {/* The whole text names the link (and shows on hover); the box shows only its first lines. */}
              <title>{`${node.claim.party.name}: ${node.claim.text}${focus ? ' (this claim)' : ''}`}</title>
              <g class={`node${focus ? ' node-focus' : ''} node-${node.claim.standing}`}>
                <rect x={x - NODE_WIDTH / 2} y={y - h / 2} width={NODE_WIDTH} height={h} rx="6" />
                <text x={x - NODE_WIDTH / 2 + 10} y={y - h / 2 + 17} class="node-party">
                  {clip(node.claim.party.name, CHARS_PER_LINE - 4)}
                </text>
                {node.lines.map((line, index) => (
                  <text key={index} x={x - NODE_WIDTH / 2 + 10} y={y - h / 2 + 17 + LINE_HEIGHT * (index + 1)}>
                    {line}
                  </text>
                ))}
              </g>
            </a>
          )
        })}
      </svg>
      <figcaption id="thread-caption">
        The thread of this claim: {nodes.size} {nodes.size === 1 ? 'claim' : 'claims'}, {edges.length}{' '}
        {edges.length === 1 ? 'link' : 'links'}
        {thread.truncated && ' (deeper links were left out)'}. Arrows point from a response to what it answers.
      </figcaption>
      {kinds.length > 0 && (
        <ul class="legend" aria-label="Legend">
          {kinds.map((kind) => (
            <li key={kind}>
              <svg width="40" height="10" aria-hidden="true">
                <line class={`edge edge-${kind}`} x1="0" y1="5" x2="40" y2="5" />
              </svg>{' '}
              {LINK_STYLES[kind].verb} ({LINK_STYLES[kind].description})
            </li>
          ))}
        </ul>
      )}
      <h3 id="thread-links">The links, as text</h3>
      {edges.length === 0 ? (
        <p>No other claim answers this one, and it answers none.</p>
      ) : (
        <ul class="thread-list" aria-labelledby="thread-links">
          {edges.map((edge) => {
            const from = nodes.get(edge.from)?.claim
            const to = nodes.get(edge.to)?.claim
            if (from === undefined || to === undefined) return null
            return (
              <li key={edge.id} data-kind={edge.kind}>
                <a href={href(`/claims/${from.id}`)}>
                  {from.party.name}: “{from.text}”
                </a>{' '}
                <strong>{LINK_STYLES[edge.kind].verb}</strong>{' '}
                <a href={href(`/claims/${to.id}`)}>
                  {to.party.name}: “{to.text}”
                </a>
              </li>
            )
          })}
        </ul>
      )}
    </figure>
  )
}
