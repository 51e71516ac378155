// The plug-in entry: `--reward-plugin dist/services/reward-concise/src` loads the definitions exported here.
export { conciseCorrect } from './concise.reward';
