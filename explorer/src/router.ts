import { useEffect, useState } from 'preact/hooks'

/** The explorer's own paths live under /explore; the browser's history holds them, so every page is a link. */
export const BASE = '/explore'

export interface Place {
  path: string
  query: URLSearchParams
}

function current(): Place {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) || '/' : '/'
  return { path: path.replace(/\/+$/, '') || '/', query: new URLSearchParams(location.search) }
}

const listeners = new Set<() => void>()

/** Goes to a path of the explorer (`/claims/…?x=1`); `replace` changes the entry instead of adding one. */
export function navigate(to: string, { replace = false } = {}): void {
  const url = href(to)
  if (url === location.pathname + location.search) return
  if (replace) history.replaceState(null, '', url)
  else history.pushState(null, '', url)
  for (const listener of listeners) listener()
}

/** The address of an explorer path: `/` is /explore itself, and `/?q=x` is /explore?q=x. */
export function href(to: string): string {
  return `${BASE}${to.startsWith('/?') || to === '/' ? to.slice(1) : to}`
}

export function usePlace(): Place {
  const [place, setPlace] = useState(current)
  useEffect(() => {
    const update = () => setPlace(current())
    listeners.add(update)
    addEventListener('popstate', update)
    return () => {
      listeners.delete(update)
      removeEventListener('popstate', update)
    }
  }, [])
  return place
}

/**
 * Same-page links are followed by the router: a click on an `<a href="/explore/…">` without a modifier key changes
 * the page without reloading it. Other links (the API, sources) are left to the browser.
 */
export function followLinksInPage(): void {
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return
    const anchor = (event.target as Element | null)?.closest?.('a')
    const target = anchor?.getAttribute('href')
    if (anchor === null || anchor === undefined || target === null || target === undefined) return
    // A link within the page (the skip link) and a link that opens elsewhere are the browser's.
    if (target.startsWith('#') || (anchor.getAttribute('target') ?? '') !== '' || anchor.hasAttribute('download'))
      return
    const url = new URL(target, location.href)
    if (url.origin !== location.origin || (url.pathname !== BASE && !url.pathname.startsWith(`${BASE}/`))) return
    event.preventDefault()
    navigate(url.pathname.slice(BASE.length) + url.search)
    window.scrollTo(0, 0)
  })
}
