export { STARTER_CONFIG, writeStarterConfig } from "./init.js";
export { type Config, configSchema } from "./schema.js";
export {
  CONFIG_FILE,
  ENV_PREFIX,
  ENV_VARS,
  type LoadedConfig,
  loadConfig,
  mergeSettings,
  parseConfigText,
  type SettingKey,
  type Settings,
  settingsFromConfig,
  settingsFromEnv,
  TARGET_KEYS,
} from "./settings.js";
