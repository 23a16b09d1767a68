// `icl-lab`: the headless CLI. Each command file parses its options and calls core or engine code.
import { Command } from 'commander';
import { engineVersion, llamaCppRelease, nodeLlamaCppVersion } from '../engine/version.js';
import { registerCheckModelCommand } from './checkModel.js';
import { registerCorrelateCommand } from './correlate.js';
import { registerDemoCommand } from './demo.js';
import { registerDownloadModelCommand } from './downloadModel.js';
import { registerEvaluateCommand } from './evaluate.js';
import { registerExtractCommand } from './extract.js';
import { registerMakeModelCommand } from './makeModel.js';
import { registerMergeCommand } from './merge.js';
import { registerPromptCommand } from './prompt.js';
import { registerDoctorCommand } from './doctor.js';
import { registerQualityCommand } from './quality.js';
import { registerRunCommand } from './run.js';
import { registerReportCommand } from './report.js';
import { registerReproduceCommand } from './reproduce.js';
import { registerSaeCommand } from './sae.js';
import { registerValidateCommand } from './validate.js';

const program = new Command('icl-lab')
  .description('ICL Activation Lab: MLP activations of local GGUF models for in-context example selection')
  .version(`icl-lab ${engineVersion} (node-llama-cpp ${nodeLlamaCppVersion}, llama.cpp ${llamaCppRelease})`, '-v, --version')
  // npx takes --help and --version for itself: `npx icl-lab help` and `npx icl-lab -v` reach this program.
  .addHelpText(
    'after',
    [
      '',
      'Examples:',
      '  icl-lab demo                                         the whole study on SmolLM2-135M and a demo dataset (about 5 minutes)',
      '  icl-lab run study.run.yaml --out runs/study          the whole study from a run configuration (resumable: --resume)',
      '  icl-lab download-model smollm2-135m                  a small real model (also gemma3-270m, llama-3.2-3b, qwen2.5-3b)',
      '  icl-lab check-model smollm2-135m                     check the activation sites layer by layer',
      '  icl-lab reproduce --preset cpu-small --out repro     the paper-shaped table on two real models',
      '  icl-lab sae runs/study                               a sparse autoencoder on a run\'s activations: its features as signals',
      '  icl-lab help run                                     one command\'s options',
    ].join('\n'),
  );

registerMakeModelCommand(program);
registerExtractCommand(program);
registerDemoCommand(program);
registerQualityCommand(program);
registerEvaluateCommand(program);
registerCorrelateCommand(program);
registerValidateCommand(program);
registerRunCommand(program);
registerMergeCommand(program);
registerReportCommand(program);
registerDownloadModelCommand(program);
registerCheckModelCommand(program);
registerReproduceCommand(program);
registerPromptCommand(program);
registerDoctorCommand(program);
registerSaeCommand(program);

await program.parseAsync(process.argv);
