// The release this source tree is (package.json's version; a test keeps them equal).

/** Hallmark's version, as reported in OCSF `metadata.product.version` and syslog `origin`. */
export const HALLMARK_VERSION = '0.1.0';
