/** Choosing cases (`only`, `skip`) and settling capabilities. */
import type { Capabilities, Capability, Selection } from './types.js';

/** Every capability and its default: what a plain HTTP/1.1 server on a socket offers. */
export const DEFAULT_CAPABILITIES: Readonly<Record<Capability, boolean>> = {
  http10: true,
  'keep-alive': true,
  'half-close': true,
  'expect-continue': true,
  date: true,
  persistent: true,
  restart: true,
  'graceful-shutdown': true,
  'size-limits': true,
  'error-log': false,
  'file-wrapper': false,
  https: false,
  multiprocess: false,
};

/** The capabilities in force: defaults, then the target's, then the options'; `https` follows what the server said it speaks. */
export function settleCapabilities(
  target: Capabilities | undefined,
  options: Capabilities | undefined,
  tls: boolean | undefined,
): Record<Capability, boolean> {
  const settled = { ...DEFAULT_CAPABILITIES, ...target, ...options };
  if (tls !== undefined) settled.https = tls;
  return settled;
}

/** The capabilities of `needs` that are not in force. */
export function missingCapabilities(needs: readonly Capability[] | undefined, settled: Readonly<Record<Capability, boolean>>): Capability[] {
  return (needs ?? []).filter((capability) => !settled[capability]);
}

/** What a selector is matched against. */
export interface Selectable {
  readonly id: string;
  readonly requirements: readonly string[];
}

/** The section of a case: the part of its ID before the first dot. */
export function sectionOf(id: string): string {
  const dot = id.indexOf('.');
  return dot < 0 ? id : id.slice(0, dot);
}

function matcher(selector: string): (text: string) => boolean {
  if (!selector.includes('*')) return (text) => text === selector;
  const pattern = new RegExp(`^${selector.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return (text) => pattern.test(text);
}

/** True when one of `selectors` matches the case's ID, section or a requirement it cites. */
export function matches(item: Selectable, selectors: readonly string[]): boolean {
  return selectors.some((selector) => {
    const match = matcher(selector);
    return match(item.id) || match(sectionOf(item.id)) || item.requirements.some(match);
  });
}

/** Whether a case runs under `selection`: `run`, or `skip` when it was left out. */
export function selected(item: Selectable, selection: Selection): boolean {
  if (selection.only?.length && !matches(item, selection.only)) return false;
  return !(selection.skip?.length && matches(item, selection.skip));
}
