/** Request bodies are limited to 16 KiB (API.md, Conventions). */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * The media types a JSON body may be sent as: application/json or
 * application/*+json, parameters as `; name=value` (the route validators
 * accept the same, so the two never disagree).
 */
export const jsonMediaType = /^application\/([a-z.-]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;
