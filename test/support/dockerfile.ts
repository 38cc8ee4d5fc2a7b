/**
 * A Dockerfile's stages as the tests need them (no Docker engine here): what each stage copies and
 * runs, so a test can check an image's contents statically or lay them out in a directory.
 */
export interface DockerCopy {
  /** `--from=<stage>`, or undefined for the build context. */
  from: string | undefined;
  /** Paths in the context (or the `from` stage), without a leading `./`. */
  sources: string[];
  dest: string;
}

export interface DockerStage {
  /** `FROM … AS <name>`. */
  name: string | undefined;
  workdir: string;
  copies: DockerCopy[];
  runs: string[];
  cmd: string | undefined;
}

export function dockerStages(dockerfile: string): DockerStage[] {
  const stages: DockerStage[] = [];
  // Continuation lines joined, comments dropped.
  const lines = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const [instruction = '', ...rest] = line.split(/\s+/);
    const stage = stages.at(-1);
    switch (instruction.toUpperCase()) {
      case 'FROM':
        stages.push({
          name: /\sAS\s+(\S+)/i.exec(line)?.[1],
          workdir: '/',
          copies: [],
          runs: [],
          cmd: undefined,
        });
        break;
      case 'WORKDIR':
        if (stage) stage.workdir = rest.join(' ');
        break;
      case 'RUN':
        stage?.runs.push(rest.join(' '));
        break;
      case 'CMD':
        if (stage) stage.cmd = rest.join(' ');
        break;
      case 'COPY': {
        const from = rest.find((t) => t.startsWith('--from='))?.slice('--from='.length);
        const paths = rest.filter((t) => !t.startsWith('--'));
        const dest = paths.pop() ?? '';
        stage?.copies.push({ from, sources: paths.map((p) => p.replace(/^\.\//, '')), dest });
        break;
      }
    }
  }
  return stages;
}
