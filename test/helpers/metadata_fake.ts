/** The metadata server fake lives in sim/metadata_server.ts (the local topology uses it too). */
export { type MetadataFake, startMetadataFake } from '../../sim/metadata_server.js';
