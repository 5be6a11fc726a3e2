import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('../../../src/aws/index.ts', import.meta.url));

describe('the AWS client bundle', () => {
  it('holds no AWS SDK or Smithy module once the SDK credential chain is a file of its own', async () => {
    const external: string[] = [];
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      plugins: [
        {
          name: 'sdk-credentials-apart',
          setup(b) {
            b.onResolve({ filter: /sdk-credentials\.js$/ }, (args) => {
              external.push(args.kind);
              return { path: './sdk-credentials.mjs', external: true };
            });
          },
        },
      ],
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((f) => /@aws-sdk|@smithy/.test(f))).toEqual([]);
    expect(inputs.some((f) => f.includes('node_modules/aws4/'))).toBe(true);
    // Reached by `await import()` only: a static import would load the chain with the client.
    expect(external).toEqual(['dynamic-import']);
  });
});
