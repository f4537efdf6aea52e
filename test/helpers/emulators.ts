/**
 * Emulators for integration tests: the start/stop code lives in sim/emulators.ts (the local
 * topology uses it too); this adds the test policy — skip loudly when the SDK emulators are absent,
 * fail instead when CI_REQUIRE_EMULATORS=1.
 */
import { EMULATOR_INSTALL_HINT, missingEmulatorParts } from '../../sim/emulators.js';

export {
  firestoreEmulatorJar,
  freePort,
  pubsubEmulatorPath,
  type RunningEmulator,
  startFirestoreEmulator,
  startPubsubEmulator,
} from '../../sim/emulators.js';

/**
 * Why the emulator suite cannot run here, or undefined when it can. Throws instead when
 * CI_REQUIRE_EMULATORS=1, so CI fails rather than silently skipping.
 */
export function emulatorSkipReason(): string | undefined {
  const missing = missingEmulatorParts();
  if (missing.length === 0) return undefined;
  const reason = `SKIPPING emulator tests: missing ${missing.join(', ')}. ${EMULATOR_INSTALL_HINT}`;
  if (process.env.CI_REQUIRE_EMULATORS === '1') throw new Error(`CI_REQUIRE_EMULATORS=1 but ${reason}`);
  return reason;
}
