export { createLevelDriver, type LevelDriverOptions } from './level-driver.js';
