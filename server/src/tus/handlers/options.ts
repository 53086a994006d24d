import { CHECKSUM_ALGORITHMS } from '../checksum.js';
import type { AppContext } from '../../context.js';
import { EXTENSIONS, TUS_VERSION } from '../protocol.js';
import { tusResponse } from '../respond.js';

/**
 * "An OPTIONS request MAY be used to gather information about the Server's current configuration.
 * A successful response ... MUST contain the Tus-Version header." Answered with 200 (tusd and the
 * conformance suites expect 200 or 204; 200 is what strict clients accept everywhere).
 */
export function handleOptions(deps: AppContext): Response {
  return tusResponse(200, {
    'Tus-Version': TUS_VERSION,
    'Tus-Extension': EXTENSIONS.join(','),
    'Tus-Max-Size': String(deps.config.maxSize),
    'Tus-Checksum-Algorithm': CHECKSUM_ALGORITHMS.join(','),
    'Content-Length': '0',
  });
}
