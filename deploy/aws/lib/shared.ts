// The files deploy/aws shares with the Go side: resource names
// (deploy/names/names.json, also embedded by the binary through the Go
// package deploy/names) and alarm conditions (deploy/alarms.json, also
// implemented by deploy/prometheus/rules.yml). Read at synth time, never
// copied, so a rename or a new threshold reaches both sides.
import * as fs from "node:fs";
import * as path from "node:path";

export interface TableSpec {
  key: string;
  suffix: string;
  partitionKey: string;
  sortKey?: string;
  ttlAttribute?: string;
}

export interface NamesFile {
  defaultEnv: string;
  eventsTopic: string;
  alarmTopic: string;
  consumerGroups: string[];
  dlqSuffix: string;
  maxReceiveCount: number;
  rawMessageDelivery: boolean;
  tables: TableSpec[];
}

export interface AlarmSpec {
  key: string;
  title: string;
  op: ">" | ">=" | "<" | "<=" | "==";
  threshold: number;
  forMinutes: number;
  where: string[];
  severity: string;
}

/** The deploy/ folder: the nearest parent holding names/names.json. */
export function deployDir(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, "names", "names.json"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`deploy/names/names.json not found above ${from}`);
    dir = parent;
  }
}

export function loadNames(): NamesFile {
  return JSON.parse(fs.readFileSync(path.join(deployDir(), "names", "names.json"), "utf8")) as NamesFile;
}

export function loadAlarms(): AlarmSpec[] {
  const f = JSON.parse(fs.readFileSync(path.join(deployDir(), "alarms.json"), "utf8")) as { alarms: AlarmSpec[] };
  return f.alarms;
}

/** Resource names of one environment, as the Go package deploy/names builds them. */
export class Names {
  constructor(readonly env: string, readonly file: NamesFile = loadNames()) {
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(env)) {
      throw new Error(`TASKD_ENV ${JSON.stringify(env)}: must be 1-40 letters, digits, - or _`);
    }
  }
  get eventsTopic(): string {
    return `${this.env}-${this.file.eventsTopic}`;
  }
  get alarmTopic(): string {
    return `${this.env}-${this.file.alarmTopic}`;
  }
  queue(group: string): string {
    return `${this.env}-${group}`;
  }
  dlq(group: string): string {
    return this.queue(group) + this.file.dlqSuffix;
  }
  table(t: TableSpec): string {
    return `${this.env}-${t.suffix}`;
  }
}
