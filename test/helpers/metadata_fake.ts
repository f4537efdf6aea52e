/**
 * The metadata server fake lives in sim/metadata_server.ts (`ioc-stream dev` uses it too): edit it
 * there. Re-exported here for the tests.
 */
export { type MetadataFake, type MetadataFakeOptions, startMetadataFake } from '../../sim/metadata_server.js';
