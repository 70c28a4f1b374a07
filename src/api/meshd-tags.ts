// meshd's own settings of a virtual node or gateway (the `meshd:` block beside `spec`: ports,
// address, proxyless) have no field in App Mesh's API. Through the API they are tags named
// `meshd:<setting>`: tagging sets the setting, untagging removes it, and the result is validated
// with the rest of the resource (`meshd.ingressPort: ...` on a bad value).

export const MESHD_TAG_PREFIX = 'meshd:';

function settingValue(value: string): string | number | boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/** Whether a resource kind has a `meshd:` block. */
export function hasMeshdSettings(kind: string): boolean {
  return kind === 'VirtualNode' || kind === 'VirtualGateway';
}

/** `current` with the settings the `meshd:*` tags set; undefined when nothing is left. */
export function withMeshdTags(current: unknown, tags: readonly { key: string; value?: string }[]): Record<string, unknown> | undefined {
  const settings: Record<string, unknown> = typeof current === 'object' && current !== null ? { ...(current as Record<string, unknown>) } : {};
  for (const tag of tags) {
    if (tag.key.startsWith(MESHD_TAG_PREFIX)) settings[tag.key.slice(MESHD_TAG_PREFIX.length)] = settingValue(tag.value ?? '');
  }
  return Object.keys(settings).length > 0 ? settings : undefined;
}

/** `current` without the settings whose `meshd:*` tags are removed. */
export function withoutMeshdTags(current: unknown, keys: readonly string[]): Record<string, unknown> | undefined {
  if (typeof current !== 'object' || current === null) return undefined;
  const settings = { ...(current as Record<string, unknown>) };
  for (const key of keys) if (key.startsWith(MESHD_TAG_PREFIX)) delete settings[key.slice(MESHD_TAG_PREFIX.length)];
  return Object.keys(settings).length > 0 ? settings : undefined;
}
