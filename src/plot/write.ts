/** Chart files are written whole or not at all: the one atomic writer of sources/io. */
export { writeFileAtomic } from '../sources/index.js';
