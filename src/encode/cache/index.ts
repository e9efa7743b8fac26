export {
  EmbeddingCache,
  cachedEmbed,
  defaultCacheDir,
  CACHE_LAYOUT_VERSION,
  type CacheSize,
  type CachedEmbedOptions,
  type EmbeddingCacheOptions,
} from './cache.js';
export { type PackStats } from './pack.js';
