import { metadataStoreConformance, requireEngine } from '@triggers/testkit';
import { createPostgresMetadataStore } from './metadata-store.ts';
import { POSTGRES_TEST_ENGINE, temporarySchemas } from './testing.ts';

describe('PostgreSQL metadata store', function () {
  const postgres = requireEngine(POSTGRES_TEST_ENGINE);
  const schemas = temporarySchemas(() => postgres.address, 'metadata');
  after(() => schemas.dropAll());

  metadataStoreConformance(async () => createPostgresMetadataStore(await schemas.open()));
});
