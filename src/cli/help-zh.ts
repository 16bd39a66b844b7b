// `--help` in Chinese under a zh locale: every command summary, option and argument description, and
// commander's own headings. Keyed by the English text, so a command file keeps one description; a text
// missing here shows in English (test/cli-ux.test.ts checks that every command summary has its Chinese).
import type { Command } from "commander";

const ZH: Record<string, string> = {
  // programs
  "ModelScope from Node.js: sign in, download models, manage the cache, run a local hub": "在 Node.js 中使用 ModelScope：登录、下载模型、管理缓存、运行本地模型中心",
  "DeepCompressor configs with ModelScope: resolve model sources to local folders, then run the Python DeepCompressor":
    "用 ModelScope 处理 DeepCompressor 配置：把模型来源解析为本地文件夹，然后运行 Python 版 DeepCompressor",
  // modelscope commands
  "sign in: check a token with the hub and save it to ~/.modelscope/token": "登录：向服务器验证 token 并保存到 ~/.modelscope/token",
  "sign out: remove the saved token": "退出登录：删除保存的 token",
  "show who the current token belongs to": "显示当前 token 所属的用户",
  "sign-in state": "登录状态",
  "are you signed in, with which token, and does the hub accept it (exit 0 if signed in)": "是否已登录、使用哪个 token、服务器是否接受（已登录时退出码为 0）",
  "show a model's info and revisions (private models need a sign-in)": "显示模型信息和版本（私有模型需要登录）",
  "run a local ModelScope-compatible hub over a cache folder (for offline clusters and tests)": "在缓存文件夹上运行与 ModelScope 兼容的本地模型中心（用于离线集群和测试）",
  "manage the local hub's users (hub.json)": "管理本地模型中心的用户（hub.json）",
  "add a user and print a new token (shown once; only its sha256 is stored)": "添加用户并打印新 token（只显示一次；仅保存其 sha256）",
  "download a model (or some of its files) into the cache or --local-dir, verified by sha256; prints the local folder":
    "下载模型（或其中部分文件）到缓存或 --local-dir，按 sha256 校验；打印本地文件夹",
  "see and manage the local model cache": "查看和管理本地模型缓存",
  "list cached models, their revisions and sizes": "列出已缓存的模型、版本和大小",
  "remove a model (or one --revision of it) from the cache": "从缓存中删除模型（或其某个 --revision）",
  "re-hash cached files against the hub's sha256 (exit 1 on any mismatch)": "按服务器的 sha256 重新校验缓存文件（有不一致时退出码为 1）",
  "remove leftovers of interrupted downloads: partial files, stale locks, orphan records": "清理中断下载的残留：未完成的文件、失效的锁、孤立记录",
  "what a bug report needs: version, endpoint, paths, settings in force, sign-in state": "报告问题所需的信息：版本、服务地址、路径、生效的设置、登录状态",
  "print a shell completion script (bash, zsh or fish)": "打印 shell 补全脚本（bash、zsh 或 fish）",
  "display help for command": "显示命令帮助",
  "output the version number": "显示版本号",
  // deepcompressor commands
  "resolve every model source the configs name (model:, pipeline:), download what is missing, print the local folders":
    "解析配置中的每个模型来源（model:、pipeline:），下载缺少的内容，打印本地文件夹",
  "DeepCompressor configs": "DeepCompressor 配置",
  "check configs (types, model sources, credentials) and report every problem at once, with file, line and key": "检查配置（类型、模型来源、凭据），一次报告所有问题，附文件、行号和键",
  "are you signed in to ModelScope, with which token, does the hub accept it (exit 0 if signed in)": "是否已登录 ModelScope、使用哪个 token、服务器是否接受（已登录时退出码为 0）",
  "resolve the model, then run the Python DeepCompressor's post-training quantization on the same configs": "解析模型，然后用同样的配置运行 Python 版 DeepCompressor 的训练后量化",
  // options and arguments
  "errors only: no progress bars, notes or summaries": "只输出错误：不显示进度条、提示或摘要",
  "the token (shows in shell history: prefer --token-stdin)": "token（会留在 shell 历史中：建议使用 --token-stdin）",
  "read the token from standard input": "从标准输入读取 token",
  "hub URL (default: MODELSCOPE_ENDPOINT or https://modelscope.cn)": "服务地址（默认：MODELSCOPE_ENDPOINT 或 https://modelscope.cn）",
  "hub URL": "服务地址",
  "check this token instead of the saved one": "检查此 token，而不是保存的 token",
  "use this token instead of the saved one (prefer MODELSCOPE_API_TOKEN)": "使用此 token 代替保存的 token（建议使用 MODELSCOPE_API_TOKEN）",
  "use this token instead of the saved one": "使用此 token 代替保存的 token",
  "machine-readable output": "机器可读的输出",
  "print a JSON summary": "打印 JSON 摘要",
  "do not ask the hub; only say whether a token is present": "不询问服务器；只说明是否有 token",
  "branch, tag or commit (default: master)": "分支、标签或提交（默认：master）",
  "only files matching these globs (`*` crosses `/`; comma lists allowed)": "只下载匹配这些通配符的文件（`*` 可跨越 `/`；可用逗号分隔）",
  "skip files matching these globs": "跳过匹配这些通配符的文件",
  "put the files here instead of the cache": "把文件放在这里，而不是缓存中",
  "cache folder (default: MODELSCOPE_CACHE or ~/.cache/modelscope)": "缓存文件夹（默认：MODELSCOPE_CACHE 或 ~/.cache/modelscope）",
  "cache folder": "缓存文件夹",
  "files downloaded at once (default 8)": "同时下载的文件数（默认 8）",
  "download again even when cached": "即使已缓存也重新下载",
  "no network: use the cache or say what is missing (also MODELSCOPE_OFFLINE=1)": "不联网：使用缓存，或说明缺少什么（也可设置 MODELSCOPE_OFFLINE=1）",
  "no network: use the cache or fail naming what is missing (also MODELSCOPE_OFFLINE=1)": "不联网：使用缓存，否则报错并说明缺少什么（也可设置 MODELSCOPE_OFFLINE=1）",
  "no network: the model must be cached": "不联网：模型必须已缓存",
  "list what would be downloaded, write nothing": "列出将要下载的内容，不写入任何文件",
  "say what would be downloaded; write nothing": "说明将要下载的内容；不写入任何文件",
  "only list what would be removed": "只列出将要删除的内容",
  "only this revision": "只删除此版本",
  "do not ask": "不询问",
  "verify this folder instead of the cache": "校验此文件夹，而不是缓存",
  "also exit 1 when files of the listing are not there": "清单中的文件缺失时也以退出码 1 结束",
  "the hub's folder: a ModelScope cache (models/<owner>--<name>/snapshots/<rev>/...) plus optional hub.json":
    "模型中心的文件夹：ModelScope 缓存（models/<owner>--<name>/snapshots/<rev>/...）以及可选的 hub.json",
  "the hub's folder": "模型中心的文件夹",
  "address to listen on": "监听地址",
  "port (0 picks a free one)": "端口（0 表示自动选择空闲端口）",
  "redirect files at least this big to the CDN host name (like the real hub)": "不小于此大小的文件重定向到 CDN 主机名（与真实服务器相同）",
  "host name for redirected downloads": "重定向下载使用的主机名",
  "the user's email": "用户的邮箱",
  "a config file (repeatable; merged after the positional ones)": "配置文件（可重复；在位置参数之后合并）",
  "a config file (repeatable)": "配置文件（可重复）",
  "write the merged config with each path replaced by its local folder (comments and key order kept)": "写出合并后的配置，其中每个 path 换成本地文件夹（保留注释和键的顺序）",
  "config files (YAML), or files listing config paths; __default__.yaml files cascade as in DeepCompressor": "配置文件（YAML），或列出配置路径的文件；__default__.yaml 按 DeepCompressor 的方式层层合并",
  "config files": "配置文件",
  "config files, as for the Python tool": "配置文件，与 Python 工具相同",
  "llm or diffusion": "llm 或 diffusion",
  "bash, zsh or fish": "bash、zsh 或 fish",
};

const TITLES: Record<string, string> = { "Usage:": "用法：", "Arguments:": "参数：", "Options:": "选项：", "Commands:": "命令：" };

/** The Chinese of an English help text, or the text itself when it has none. */
export function helpZh(text: string): string {
  return ZH[text] ?? text;
}

/** Puts the Chinese texts into a command tree (call once it is complete, before parsing). */
export function translateHelp(cmd: Command): void {
  cmd.description(helpZh(cmd.description()));
  for (const opt of cmd.options) opt.description = helpZh(opt.description);
  for (const arg of cmd.registeredArguments) arg.description = helpZh(arg.description);
  cmd.helpOption("-h, --help", helpZh("display help for command"));
  cmd.configureHelp({ styleTitle: (title: string) => TITLES[title] ?? title });
  for (const sub of cmd.commands) translateHelp(sub);
  if (cmd.commands.length > 0) cmd.helpCommand("help [command]", helpZh("display help for command"));
}
