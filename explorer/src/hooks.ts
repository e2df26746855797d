import { useEffect, useState } from 'preact/hooks'
import { describeError, storedKey } from './api.js'

export type Loaded<T> = { state: 'loading' } | { state: 'error'; message: string } | { state: 'ready'; value: T }

/**
 * What `load` gives, loaded again whenever one of `keys` changes; an answer that arrives after a newer request
 * was sent is dropped, so that fast typing never shows the results of an older query.
 */
export function useLoad<T>(load: () => Promise<T>, keys: unknown[]): [Loaded<T>, () => void] {
  const [result, setResult] = useState<Loaded<T>>({ state: 'loading' })
  const [round, setRound] = useState(0)
  useEffect(() => {
    let current = true
    setResult((previous) => (previous.state === 'ready' ? previous : { state: 'loading' }))
    load().then(
      (value) => current && setResult({ state: 'ready', value }),
      (error: unknown) => current && setResult({ state: 'error', message: describeError(error) }),
    )
    return () => {
      current = false
    }
  }, [...keys, round])
  return [result, () => setRound((n) => n + 1)]
}

/** `value`, once it has stopped changing for `delayMs`. */
export function useDebounced<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value)
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs)
    return () => clearTimeout(timer)
  }, [value, delayMs])
  return settled
}

/** Whether this session has an API key, following changes made in the key panel. */
export function useHasKey(): boolean {
  const [has, setHas] = useState(storedKey() !== undefined)
  useEffect(() => {
    const update = () => setHas(storedKey() !== undefined)
    addEventListener('counterclaim-key', update)
    return () => removeEventListener('counterclaim-key', update)
  }, [])
  return has
}
