import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DIR, VQ_MODEL_DIR } from '../../src/model/spec.js';
import { loadPaletteModelSpec, modelSpecVersion } from '../../src/model/palette-spec.js';

// spec.json as models/recipe.py writes it for a palette-patch model (the graphs are not committed).
const FIXTURE = join(import.meta.dirname, 'fixtures', 'palette-spec');

describe('spec.json version 2: a palette-patch model', () => {
  it('parses the recipe\'s spec: 16x16 cells of 8x8 over 34 colours, MASK 34 and NONE 35, the recipe recorded', () => {
    const spec = loadPaletteModelSpec(FIXTURE);
    expect([spec.grid, spec.cell, spec.imageSize, spec.colours]).toEqual([16, 8, 128, 34]);
    expect(spec.cellValues).toEqual({ mask: 34, none: 35 });
    expect(spec.roles.cell).toBe(11);
    expect([spec.recipe.graph, spec.recipe.pixelGraph]).toEqual(['palette_transformer.onnx', 'palette_pixels.onnx']);
  });

  it('tells the two spec versions apart before parsing either', () => {
    expect(modelSpecVersion(FIXTURE)).toBe(2);
    expect(modelSpecVersion(DEFAULT_MODEL_DIR)).toBe(2);
    expect(modelSpecVersion(VQ_MODEL_DIR)).toBe(1);
  });

  it('names the field that is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keystep-palette-spec-'));
    const spec = JSON.parse(readFileSync(join(FIXTURE, 'spec.json'), 'utf8'));
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...spec, palette: spec.palette.slice(1) }));
    expect(() => loadPaletteModelSpec(dir)).toThrow(/palette: palette must list `colours` colours/);
  });
});
