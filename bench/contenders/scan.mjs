// The full scan in-process, for machines without /usr/bin/time: runs the CLI's main(argv) from
// dist/ and prints this process's peak RSS and CPU time as one JSON line on stdout (the report
// itself goes to --output).
//   node bench/contenders/scan.mjs scan --input FILE --format json --output /dev/null --allow-incomplete
const { main } = await import(new URL("../../dist/cli/main.js", import.meta.url).href);
const code = await main(process.argv.slice(2));
const ru = process.resourceUsage();
process.stdout.write(
  `${JSON.stringify({ exit: code, maxRssKB: ru.maxRSS, userS: ru.userCPUTime / 1e6, sysS: ru.systemCPUTime / 1e6 })}\n`,
);
process.exitCode = code;
