export async function runDemo(_options: { examplesDir?: string }): Promise<number> {
  return 0;
}
