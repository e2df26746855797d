import { render } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { storedKey, storeKey } from './api.js'
import { ClaimPage } from './pages/claim.js'
import { DisputesPage } from './pages/disputes.js'
import { EventsPage } from './pages/events.js'
import { MatrixPage } from './pages/matrix.js'
import { RecordClaimPage } from './pages/record-claim.js'
import { ResponseTimesPage } from './pages/response-times.js'
import { followLinksInPage, href, usePlace, type Place } from './router.js'
import './styles.css'

const SECTIONS = [
  { path: '/', label: 'Disputes' },
  { path: '/matrix', label: 'Who disputes whom' },
  { path: '/events', label: 'Events and figures' },
  { path: '/response-times', label: 'Response times' },
  { path: '/record', label: 'Record a claim' },
]

function page(place: Place) {
  const claim = /^\/claims\/([0-9a-f-]{36})$/i.exec(place.path)
  if (claim?.[1] !== undefined) return <ClaimPage key={claim[1]} id={claim[1]} />
  const event = /^\/events\/([a-z0-9-]+)$/.exec(place.path)
  if (event?.[1] !== undefined) return <EventsPage slug={event[1]} />
  switch (place.path) {
    case '/':
      return <DisputesPage query={place.query} />
    case '/matrix':
      return <MatrixPage query={place.query} />
    case '/events':
      return <EventsPage />
    case '/response-times':
      return <ResponseTimesPage query={place.query} />
    case '/record':
      return <RecordClaimPage />
    default:
      return (
        <section>
          <h1>No such page</h1>
          <p>
            <a href={href('/')}>The disputes</a> are the place to start.
          </p>
        </section>
      )
  }
}

/** The API key for writing, kept in this tab's session storage only; reading needs none. */
function KeyPanel() {
  const [key, setKey] = useState(storedKey() ?? '')
  const [saved, setSaved] = useState(storedKey() !== undefined)
  return (
    <details class="key-panel">
      <summary>{saved ? 'API key: set for this session' : 'API key (to write)'}</summary>
      <form
        onSubmit={(event) => {
          event.preventDefault()
          storeKey(key.trim())
          setSaved(key.trim() !== '')
          dispatchEvent(new Event('counterclaim-key'))
        }}
      >
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
        />
        <p class="hint">Kept in this tab only, until it is closed; sent with each write.</p>
        <button type="submit">Use this key</button>{' '}
        <button
          type="button"
          onClick={() => {
            storeKey(undefined)
            setKey('')
            setSaved(false)
            dispatchEvent(new Event('counterclaim-key'))
          }}
        >
          Forget the key
        </button>
      </form>
    </details>
  )
}

function App() {
  const place = usePlace()
  const main = useRef<HTMLElement>(null)
  const first = useRef(true)
  // After a change of page, focus goes to the page's content, so that a screen reader starts there.
  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    main.current?.focus()
  }, [place.path])
  return (
    <>
      <a class="skip" href="#main">
        Skip to the content
      </a>
      <header>
        <p class="brand">
          <a href={href('/')}>Counterclaim</a>
        </p>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map((section) => (
              <li key={section.path}>
                <a
                  href={href(section.path)}
                  aria-current={
                    place.path === section.path || (section.path !== '/' && place.path.startsWith(`${section.path}/`))
                      ? 'page'
                      : undefined
                  }
                >
                  {section.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <KeyPanel />
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {page(place)}
      </main>
      <footer>
        <p>
          Every figure here comes from the public API: <a href="/docs">its reference</a>.
        </p>
      </footer>
    </>
  )
}

followLinksInPage()
const root = document.getElementById('app')
if (root !== null) render(<App />, root)
