import type { Argument, Command, Help, Option } from 'commander';
import { code, escapeText, generatedNotice, headingAnchor, table } from './markdown';

/**
 * docs/cli.md: every command, argument and option of the `recon` CLI, read from commander's command tree
 * (the same tree `recon --help` prints), so the reference cannot drift from the code.
 */
export function renderCliReference(program: Command): string {
  const help = program.createHelp();
  const commands = flatten(program, help);
  const sections = commands.map((command) => renderCommand(command, help));
  return [
    generatedNotice("commander's command tree (`buildProgram()` in apps/cli/src/main.ts)"),
    '',
    '# CLI reference',
    '',
    `\`${program.name()}\`: ${escapeText(program.description(), false)}. In a clone run it as \`node bin/recon <command>\``,
    '(bin/recon runs the compiled `dist/`, so `npm run build` first; `npm start` and `npm test` build too). Every',
    'command takes `-h, --help`. Usage walk-through: [getting-started.md](getting-started.md); environment',
    'variables: [configuration.md](configuration.md#environment-variables).',
    '',
    '**Output and exit codes.** Every command prints a table by default and JSON with `--json`. Exit codes: 0',
    'success; 1 a check failed or the command failed; 2 bad usage (options and arguments of every command and',
    'subcommand, config problems); 130 when Ctrl-C stops a command following a run (the run can be resumed).',
    'A failure the CLI knows prints one line on stderr naming what is wrong and where, without a stack trace;',
    'anything else prints `recon: unexpected error: <name>: <message>` and exits 1.',
    '',
    '## Global options',
    '',
    optionsTable(help.visibleOptions(program).filter((option) => !isHelpOption(option))),
    '',
    '## Commands',
    '',
    table(
      ['command', 'what it does'],
      commands.map((command) => [
        `[${code(commandPath(command))}](#${headingAnchor(commandPath(command))})`,
        escapeText(firstSentence(command.description())),
      ]),
    ),
    '',
    ...sections,
  ].join('\n');
}

function isHelpOption(option: Option): boolean {
  return option.long === '--help';
}

/** Commands in the order `--help` lists them, each followed by its subcommands; the implicit `help` left out. */
function flatten(command: Command, help: Help): Command[] {
  return help
    .visibleCommands(command)
    .filter((sub) => sub.name() !== 'help')
    .flatMap((sub) => [sub, ...flatten(sub, help)]);
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Up to the first `;` or `. ` outside parentheses: the summary the command table shows. */
function firstSentence(text: string): string {
  const line = text.split('\n')[0];
  let depth = 0;
  for (let i = 0; i < line.length; i += 1) {
    if (line[i] === '(') depth += 1;
    else if (line[i] === ')') depth -= 1;
    else if (depth === 0 && (line[i] === ';' || (line[i] === '.' && line[i + 1] === ' ')))
      return line.slice(0, i);
  }
  return line;
}

function renderCommand(command: Command, help: Help): string {
  const parts = [
    `## ${commandPath(command)}`,
    '',
    '```',
    help.commandUsage(command),
    '```',
    '',
    escapeText(command.description(), false),
  ];
  const args = help.visibleArguments(command);
  if (args.length > 0) parts.push('', argumentsTable(args));
  const options = help.visibleOptions(command).filter((option) => !isHelpOption(option));
  if (options.length > 0) parts.push('', optionsTable(options));
  const subcommands = help.visibleCommands(command).filter((sub) => sub.name() !== 'help');
  if (subcommands.length > 0)
    parts.push(
      '',
      `Subcommands: ${subcommands.map((sub) => `[${code(sub.name())}](#${headingAnchor(commandPath(sub))})`).join(', ')}.`,
    );
  parts.push('');
  return parts.join('\n');
}

function argumentTerm(argument: Argument): string {
  const name = `${argument.name()}${argument.variadic ? '...' : ''}`;
  return argument.required ? `<${name}>` : `[${name}]`;
}

function argumentsTable(args: readonly Argument[]): string {
  return table(
    ['argument', 'meaning'],
    args.map((argument) => [code(argumentTerm(argument)), escapeText(argument.description || '')]),
  );
}

function optionsTable(options: readonly Option[]): string {
  return table(
    ['option', 'meaning', 'default'],
    options.map((option) => [
      code(option.flags),
      escapeText(
        [
          option.mandatory ? 'required; ' : '',
          option.description,
          option.argChoices ? ` (one of: ${option.argChoices.join(', ')})` : '',
        ].join(''),
      ),
      defaultOf(option),
    ]),
  );
}

function defaultOf(option: Option): string {
  if (option.defaultValueDescription) return escapeText(option.defaultValueDescription);
  const value: unknown = option.defaultValue;
  if (value === undefined || option.negate) return '';
  if (Array.isArray(value) && value.length === 0) return '';
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) return '';
  return code(typeof value === 'string' ? value : JSON.stringify(value));
}
