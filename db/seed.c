/* seed.c - the demo city behind `onetripd seed` (see seed.h).
 *
 * Every row is a pure function of (seed, table, row index): a splitmix64
 * stream keyed by those three drives all random choices, and the unique
 * columns (ID number, licence file number, plate, VIN, engine number) come
 * from bijections of the index, never from random draws with retries. So the
 * same seed and sizes give the same rows on any machine, a crashed run can
 * be re-run (it regenerates the same rows and INSERT IGNORE skips those that
 * are already there), and a million plates cannot collide.
 *
 * Dates are relative to a fixed "today" (SEED_TODAY), not the clock: rows
 * must not depend on the day the demo was loaded. Bump it when the demo city
 * looks stale (inspections and medical checks overdue).
 *
 * Order of work in seed_run:
 *   1. validate options, take the named lock 'onetrip_seed' (two concurrent
 *      seeders would interleave ids);
 *   2. any demo_seed row -> the demo city is already there: load nothing;
 *   3. per table, find the id offset: if the table already holds this
 *      seed's first row (a crashed earlier run), continue at its offset,
 *      otherwise start after MAX(id) (empty table: ids 1..N);
 *   4. outlets, citizens, licences, vehicles in batches of SEED_BATCH rows,
 *      one transaction per batch; the demo_seed marker is written in the
 *      transaction of the very last batch, so a run that dies midway leaves
 *      no marker and the next run completes it.
 */
#include "db/seed.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/registration/plate_rules.h"
#include "modules/registration/vin.h"
#include "server/date.h"
#include "server/pii.h"

/* Rows per multi-row INSERT and per transaction. A power of two because a
 * short last batch is sent as one statement per set bit of its size (see
 * stmt_get), so at most SEED_BATCH_LOG2 + 1 statement texts per table. */
#define SEED_BATCH_LOG2 10
#define SEED_BATCH (1 << SEED_BATCH_LOG2)
#define SEED_TX_ATTEMPTS 5
#define SEED_MAX_COLS 13

#define SEED_TODAY_Y 2026
#define SEED_TODAY_M 11
#define SEED_TODAY_D 1

/* Independent random streams per table (and per bijection). */
enum {
    ST_OUTLET = 1, ST_CITIZEN, ST_LICENCE, ST_VEHICLE,
    ST_PERM_ID, ST_PERM_FILE, ST_PERM_PLATE, ST_PERM_ENGINE,
};

static const char SQL_LOCK[] = "SELECT GET_LOCK('onetrip_seed', 0)";
static const char SQL_UNLOCK[] = "SELECT RELEASE_LOCK('onetrip_seed')";
static const char SQL_MARKER_ANY[] = "SELECT seed FROM demo_seed LIMIT 1";
static const char SQL_MARKER_ADD[] =
    "INSERT INTO demo_seed (seed, people, vehicles, loaded_at) VALUES (?, ?, ?, UTC_TIMESTAMP(3))";
static const char SQL_FIND_CITIZEN[] = "SELECT id FROM citizens WHERE id_number_hash = ?";
static const char SQL_FIND_LICENCE[] = "SELECT id FROM licences WHERE file_no = ?";
static const char SQL_FIND_VEHICLE[] = "SELECT id FROM vehicles WHERE vin = ?";
static const char SQL_MAX_CITIZEN[] = "SELECT COALESCE(MAX(id), 0) FROM citizens";
static const char SQL_MAX_LICENCE[] = "SELECT COALESCE(MAX(id), 0) FROM licences";
static const char SQL_MAX_VEHICLE[] = "SELECT COALESCE(MAX(id), 0) FROM vehicles";

/* ---- random numbers ------------------------------------------------------ */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Vigna's splitmix64: tiny, fast, passes BigCrush, and any 64-bit state is
 * a good starting point, which is what per-row streams need. */
uint64_t seed_splitmix64(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15ULL;
    return mix64(*state);
}

/* The stream for one row: independent of every other row, so rows can be
 * generated in any order (or again, after a crash). */
static uint64_t rng_row(uint64_t seed, uint64_t stream, uint64_t idx)
{
    return mix64(mix64(seed) ^ (stream << 56) ^ idx);
}

/* Uniform enough in [0, n) for demo data (modulo bias < 2^-30). */
static uint64_t below(uint64_t *s, uint64_t n)
{
    return seed_splitmix64(s) % n;
}

/* True with probability per_mille/1000. */
static int chance(uint64_t *s, unsigned per_mille)
{
    return below(s, 1000) < per_mille;
}

/* ---- bijections of the index ---------------------------------------------- */

/* i -> (a*i + b) mod n with gcd(a, n) = 1 is a permutation of [0, n): unique
 * outputs for unique inputs, scattered enough to look random. n < 2^32 keeps
 * a*i within 64 bits. */
typedef struct seed_perm {
    uint64_t n, a, b;
} seed_perm;

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;

        a = b;
        b = t;
    }
    return a;
}

static void perm_init(seed_perm *p, uint64_t n, uint64_t seed, uint64_t stream)
{
    uint64_t s = rng_row(seed, stream, 0);

    p->n = n;
    /* Multipliers near 0 or n would map neighbours to neighbours. */
    p->a = n / 3 + below(&s, n / 3);
    while (gcd64(p->a, n) != 1)
        p->a++;
    p->b = below(&s, n);
}

static uint64_t perm_apply(const seed_perm *p, uint64_t i)
{
    return (p->a * (i % p->n) + p->b) % p->n;
}

/* ---- dates --------------------------------------------------------------- */

/* A calendar day; 29 February of a non-leap year becomes the 28th (that is
 * how anniversaries of leap-day dates are kept). */
static int32_t ymd(int y, int m, int d)
{
    int32_t v = 0;

    if (date_from_ymd(y, m, d, &v) != 0)
        date_from_ymd(y, m, 28, &v);
    return v;
}

static int32_t add_years(int32_t day, int n)
{
    int y = 0, m = 0, d = 0;

    date_to_ymd(day, &y, &m, &d);
    return ymd(y + n, m, d);
}

static int age_at(int32_t birth, int32_t today)
{
    int by = 0, bm = 0, bd = 0, ty = 0, tm = 0, td = 0, age = 0;

    date_to_ymd(birth, &by, &bm, &bd);
    date_to_ymd(today, &ty, &tm, &td);
    age = ty - by;
    if (tm < bm || (tm == bm && td < bd))
        age--;
    return age;
}

static void fmt_date(int32_t day, char out[DATE_STR_SIZE])
{
    date_format(day, out);
}

/* "YYYY-MM-DD HH:MM:SS.mmm" (UTC, as DATETIME(3) columns hold). */
static void fmt_datetime(int32_t day, unsigned sec, unsigned ms, char out[32])
{
    char d[DATE_STR_SIZE];

    fmt_date(day, d);
    snprintf(out, 32, "%s %02u:%02u:%02u.%03u", d, (sec / 3600) % 24, (sec / 60) % 60, sec % 60,
             ms % 1000);
}

/* A random moment of office hours on day, 08:30-17:30 in Hangzhou (UTC+8),
 * written as UTC. Draws are sequenced one per statement throughout this file:
 * two draws as arguments of one call would run in an unspecified order, and
 * another compiler could then make another city from the same seed. */
static void office_datetime(uint64_t *s, int32_t day, char out[32])
{
    unsigned sec = 30 * 60 + (unsigned)below(s, 9 * 3600);
    unsigned ms = (unsigned)below(s, 1000);

    fmt_datetime(day, sec, ms, out);
}

/* ---- reference lists ----------------------------------------------------- */

/* Hangzhou administrative codes a person born 1950-2005 may carry in the ID
 * number (the codes of the time, e.g. 下城区 and 江干区, since merged). */
static const char *const id_regions[] = {
    "330102", "330103", "330104", "330105", "330106", "330108", "330109",
    "330110", "330122", "330127", "330182", "330183", "330185",
};
#define N_REGIONS (sizeof id_regions / sizeof id_regions[0])

#define BIRTH_Y0 1950
#define BIRTH_Y1 2005

/* The first ten are the most common surnames in Zhejiang: picked half the time. */
static const char *const surnames[] = {
    "王", "陈", "张", "李", "徐", "周", "吴", "杨", "金", "朱",
    "刘", "黄", "赵", "孙", "马", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓",
    "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋",
    "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任",
    "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范",
    "钱", "方", "邵", "俞", "楼", "应", "童", "项", "毛", "顾",
    "欧阳", "诸葛", "司马", "上官",
};
static const char *const given_male[] = {
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "斌", "超", "明", "刚",
    "平", "辉", "鹏", "华", "飞", "鑫", "波", "宁", "浩", "宇", "轩", "博",
    "文", "俊", "晨", "昊", "然", "峰", "建", "国", "志", "海", "林", "东",
    "亮", "健", "骏", "哲", "睿", "子", "一", "家", "天", "嘉", "思", "泽",
};
static const char *const given_female[] = {
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "婷", "雪",
    "琳", "颖", "倩", "洁", "慧", "梅", "萍", "红", "月", "佳", "欣", "怡",
    "雨", "涵", "诗", "梦", "悦", "琪", "晓", "丹", "莉", "蓉", "瑶", "璐",
    "妍", "婧", "一", "子", "思", "嘉",
};

static const struct {
    const char *district, *street;
} streets[] = {
    {"上城区", "解放路"}, {"上城区", "延安路"}, {"上城区", "清泰街"}, {"上城区", "望江路"},
    {"上城区", "钱江路"}, {"拱墅区", "湖墅南路"}, {"拱墅区", "莫干山路"}, {"拱墅区", "大关路"},
    {"拱墅区", "体育场路"}, {"拱墅区", "东新路"}, {"西湖区", "文三路"}, {"西湖区", "天目山路"},
    {"西湖区", "教工路"}, {"西湖区", "古墩路"}, {"西湖区", "留下街"}, {"滨江区", "江南大道"},
    {"滨江区", "滨盛路"}, {"滨江区", "长河路"}, {"滨江区", "江陵路"}, {"萧山区", "市心路"},
    {"萧山区", "北干路"}, {"萧山区", "金城路"}, {"萧山区", "人民路"}, {"余杭区", "文一西路"},
    {"余杭区", "五常大道"}, {"余杭区", "良渚路"}, {"临平区", "迎宾路"}, {"临平区", "星光街"},
    {"钱塘区", "学源街"}, {"钱塘区", "下沙路"}, {"富阳区", "金桥北路"}, {"临安区", "钱王街"},
    {"桐庐县", "迎春南路"}, {"淳安县", "新安大街"}, {"建德市", "严州大道"},
};

typedef struct outlet_def {
    const char *code, *name, *type, *address;
} outlet_def;

static const outlet_def outlets[] = {
    {"W-HZ-001", "杭州市公安局交警支队车管所一窗口", "window", "杭州市拱墅区石祥路2号"},
    {"W-HZ-002", "杭州市公安局交警支队车管所二窗口", "window", "杭州市拱墅区石祥路2号"},
    {"W-HZ-003", "杭州市公安局交警支队车管所三窗口", "window", "杭州市拱墅区石祥路2号"},
    {"W-HZ-004", "杭州市公安局交警支队车管所四窗口", "window", "杭州市拱墅区石祥路2号"},
    {"W-HZ-005", "杭州市公安局交警支队车管所五窗口", "window", "杭州市拱墅区石祥路2号"},
    {"W-HZ-006", "杭州市公安局交警支队车管所萧山分所一窗口", "window", "杭州市萧山区通惠南路1088号"},
    {"W-HZ-007", "杭州市公安局交警支队车管所余杭分所一窗口", "window", "杭州市余杭区良睦路1399号"},
    {"W-HZ-008", "杭州市公安局交警支队车管所滨江分所一窗口", "window", "杭州市滨江区江南大道3888号"},
    {"P-HZ-001", "中国邮政集团有限公司杭州市湖滨邮政支局", "post", "杭州市上城区延安路300号"},
    {"P-HZ-002", "中国邮政集团有限公司杭州市文三路邮政支局", "post", "杭州市西湖区文三路259号"},
    {"P-HZ-003", "中国邮政集团有限公司杭州市萧山邮政分公司", "post", "杭州市萧山区人民路128号"},
    {"P-HZ-004", "中国邮政集团有限公司杭州市余杭邮政分公司", "post", "杭州市余杭区南苑街道迎宾路366号"},
    {"P-HZ-005", "中国邮政集团有限公司杭州市滨江邮政支局", "post", "杭州市滨江区滨盛路1509号"},
    {"P-HZ-006", "中国邮政集团有限公司杭州市下沙邮政支局", "post", "杭州市钱塘区学源街118号"},
    {"I-HZ-001", "中国人民财产保险股份有限公司杭州市分公司", "insurer", "杭州市上城区庆春路219号"},
    {"I-HZ-002", "中国平安财产保险股份有限公司浙江分公司", "insurer", "杭州市上城区钱江路1366号"},
    {"I-HZ-003", "中国太平洋财产保险股份有限公司浙江分公司", "insurer", "杭州市西湖区教工路18号"},
    {"I-HZ-004", "中华联合财产保险股份有限公司浙江分公司", "insurer", "杭州市拱墅区环城北路208号"},
    {"I-HZ-005", "中国人寿财产保险股份有限公司浙江省分公司", "insurer", "杭州市上城区江锦路159号"},
    {"I-HZ-006", "阳光财产保险股份有限公司浙江省分公司", "insurer", "杭州市西湖区天目山路181号"},
    {"H-HZ-001", "浙江大学医学院附属第一医院", "hospital", "杭州市上城区庆春路79号"},
    {"H-HZ-002", "浙江大学医学院附属第二医院", "hospital", "杭州市上城区解放路88号"},
    {"H-HZ-003", "浙江省人民医院", "hospital", "杭州市拱墅区上塘路158号"},
    {"H-HZ-004", "杭州市第一人民医院", "hospital", "杭州市上城区浣纱路261号"},
    {"H-HZ-005", "杭州市萧山区第一人民医院", "hospital", "杭州市萧山区育才北路199号"},
    {"C-HZ-001", "杭州市中级人民法院", "court", "杭州市上城区之江路1356号"},
    {"C-HZ-002", "杭州市上城区人民法院", "court", "杭州市上城区秋涛北路458号"},
    {"C-HZ-003", "杭州市西湖区人民法院", "court", "杭州市西湖区之江路893号"},
    {"C-HZ-004", "杭州市萧山区人民法院", "court", "杭州市萧山区市心中路818号"},
    {"D-HZ-001", "杭州元通大众汽车销售服务有限公司", "dealer", "杭州市拱墅区石祥路358号"},
    {"D-HZ-002", "浙江物产丰田汽车销售服务有限公司", "dealer", "杭州市拱墅区莫干山路1188号"},
    {"D-HZ-003", "杭州比亚迪汽车销售服务有限公司", "dealer", "杭州市萧山区市心北路2066号"},
    {"D-HZ-004", "杭州中升之星汽车销售服务有限公司", "dealer", "杭州市西湖区紫金港路21号"},
    {"S-HZ-001", "杭州市华通机动车检测有限公司", "station", "杭州市拱墅区康桥路8号"},
    {"S-HZ-002", "杭州萧山机动车安全技术检测站", "station", "杭州市萧山区通惠南路666号"},
    {"S-HZ-003", "杭州余杭机动车检测中心", "station", "杭州市余杭区瓶窑镇凤都路9号"},
    {"S-HZ-004", "杭州滨江机动车检测站", "station", "杭州市滨江区浦沿路88号"},
    {"A-HZ-001", "杭州市公安局交通警察支队", "agency", "杭州市上城区解放东路28号"},
    {"A-HZ-002", "浙江省公安厅高速公路交通警察总队杭州支队", "agency", "杭州市萧山区建设一路66号"},
    {"A-HZ-003", "杭州萧山国际机场公安局", "agency", "杭州市萧山区空港大道"},
    {"A-HZ-004", "上海铁路公安局杭州公安处", "agency", "杭州市上城区环城东路1号"},
    {"A-HZ-005", "杭州市城市管理局", "agency", "杭州市上城区解放东路18号"},
};
#define N_OUTLETS ((int64_t)(sizeof outlets / sizeof outlets[0]))

typedef struct vmodel {
    const char *brand, *model, *wmi, *engine;
} vmodel;

static const vmodel cars[] = {  /* K33 小型轿车 */
    {"大众", "朗逸", "LSV", "EA211"},    {"大众", "帕萨特", "LSV", "EA888"},
    {"大众", "速腾", "LFV", "EA211"},    {"奥迪", "A4L", "LFV", "EA888"},
    {"丰田", "卡罗拉", "LFM", "8ZR"},    {"丰田", "凯美瑞", "LVG", "A25A"},
    {"本田", "雅阁", "LHG", "L15B"},     {"本田", "思域", "LVH", "L15B"},
    {"日产", "轩逸", "LGB", "HR16"},     {"比亚迪", "秦PLUS", "LGX", "BYD472QA"},
    {"吉利", "帝豪", "L6T", "JLC4G15"},  {"特斯拉", "Model 3", "LRW", "3D3"},
    {"别克", "英朗", "LSG", "L3G"},      {"宝马", "3系", "LBV", "B48"},
    {"奔驰", "C级", "LE4", "M254"},
};
static const vmodel suvs[] = {  /* K32 小型越野客车 */
    {"哈弗", "H6", "LGW", "GW4B15"},     {"本田", "CR-V", "LVH", "L15B"},
    {"丰田", "RAV4荣放", "LFM", "M20D"}, {"大众", "途观L", "LSV", "EA888"},
    {"比亚迪", "宋PLUS", "LGX", "BYD472ZQA"}, {"吉利", "星越L", "L6T", "JLH4G20"},
};
static const vmodel mpvs[] = {  /* K31 小型普通客车 */
    {"别克", "GL8", "LSG", "LXH"}, {"五菱", "宏光", "LZW", "L2B"}, {"本田", "奥德赛", "LHG", "K24W"},
};
static const vmodel light_trucks[] = {  /* H31 轻型普通货车 */
    {"福田", "奥铃", "LVB", "4J28"}, {"江铃", "顺达", "LEF", "JX493"}, {"五菱", "荣光小卡", "LZW", "LJY"},
};
static const vmodel heavy_trucks[] = {  /* H11 重型普通货车 */
    {"解放", "J6P", "LFN", "CA6DM"}, {"东风", "天龙", "LGA", "DCI11"}, {"重汽", "豪沃", "LZZ", "MC11"},
};
static const vmodel motorcycles[] = {  /* M22 普通二轮摩托车 */
    {"豪爵", "铃木", "LC6", "HJ150"}, {"新大洲本田", "幻影", "LAL", "SDH150"}, {"雅马哈", "天剑", "LBP", "JYM150"},
};
static const vmodel buses[] = {  /* K11 大型普通客车 */
    {"宇通", "ZK6125", "LZY", "YC6L"}, {"金龙", "XMQ6127", "LA6", "WP7"},
};

#define MODELS(a) a, (int)(sizeof a / sizeof a[0])
static const struct vkind {
    const char *type, *cls;
    unsigned weight;  /* out of 100 */
    const vmodel *models;
    int nmodels;
} kinds[] = {
    {"K33", "C1", 62, MODELS(cars)},
    {"K32", "C1", 12, MODELS(suvs)},
    {"K31", "C1", 6, MODELS(mpvs)},
    {"H31", "C1", 5, MODELS(light_trucks)},
    {"H11", "B2", 3, MODELS(heavy_trucks)},
    {"M22", "D", 10, MODELS(motorcycles)},
    {"K11", "A1", 2, MODELS(buses)},
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

/* VIN model-year codes (position 10) for 2001..2030. */
static const char vin_years[] = "123456789ABCDEFGHJKLMNPRSTVWXY";
/* Characters allowed anywhere in a VIN. */
static const char vin_chars[] = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ";
/* Letters allowed on plates (no I, O). */
static const char plate_letters[] = "ABCDEFGHJKLMNPQRSTUVWXYZ";

/* ---- generation context -------------------------------------------------- */

typedef struct gen_ctx {
    uint64_t seed;
    int64_t people, vehicles;
    int32_t today;
    int32_t birth_lo;    /* 1950-01-01 */
    uint64_t birth_days; /* days 1950-01-01 .. 2005-12-31 */
    seed_perm id_perm, file_perm, plate_perm, engine_perm;
    int64_t cit_off, lic_off, veh_off; /* id = off + index + 1 */
    const char *prefix;
} gen_ctx;

/* Sizes of the three number spaces, for bounds checks. */
#define FILE_SPACE 100000000ULL   /* 8 digits after "3301" */
#define ENGINE_SPACE 100000000ULL /* 8 digits after the engine family */

static uint64_t plate_space(void)
{
    /* Five positions, at most two of them letters (24 letters, 10 digits). */
    return 100000ULL + 5ULL * 24 * 10000 + 10ULL * 24 * 24 * 1000;
}

uint64_t seed_plate_space(void)
{
    return plate_space();
}

static void ctx_init(gen_ctx *g, uint64_t seed, int64_t people, int64_t vehicles)
{
    memset(g, 0, sizeof *g);
    g->seed = seed;
    g->people = people;
    g->vehicles = vehicles;
    g->today = ymd(SEED_TODAY_Y, SEED_TODAY_M, SEED_TODAY_D);
    g->birth_lo = ymd(BIRTH_Y0, 1, 1);
    g->birth_days = (uint64_t)(ymd(BIRTH_Y1, 12, 31) - g->birth_lo + 1);
    perm_init(&g->id_perm, N_REGIONS * g->birth_days * 1000, seed, ST_PERM_ID);
    perm_init(&g->file_perm, FILE_SPACE, seed, ST_PERM_FILE);
    perm_init(&g->plate_perm, plate_space(), seed, ST_PERM_PLATE);
    perm_init(&g->engine_perm, ENGINE_SPACE, seed, ST_PERM_ENGINE);
    g->prefix = "浙A";
}

/* ---- identifiers ---------------------------------------------------------- */

/* GB 11643-1999 check character of the first 17 digits. */
char seed_id_check_char(const char *id17)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char map[] = "10X98765432";
    int sum = 0;

    for (int i = 0; i < 17; i++) {
        if (id17[i] < '0' || id17[i] > '9')
            return '\0';
        sum += (id17[i] - '0') * w[i];
    }
    return map[sum % 11];
}

/* Citizen idx's ID number: the permuted index, read in mixed radix, picks
 * the sequence number, the region and the birth day, so two citizens never
 * share a number. Odd sequence numbers are men (as in real numbers). */
static void id_number(const gen_ctx *g, uint64_t idx, char out[19], int32_t *birth, int *male)
{
    uint64_t p = perm_apply(&g->id_perm, idx);
    unsigned seq = (unsigned)(p % 1000);
    unsigned reg = (unsigned)((p / 1000) % N_REGIONS);
    int32_t day = g->birth_lo + (int32_t)(p / 1000 / N_REGIONS);
    int y = 0, m = 0, d = 0;

    date_to_ymd(day, &y, &m, &d);
    snprintf(out, 19, "%s%04u%02u%02u%03u", id_regions[reg], (unsigned)y % 10000,
             (unsigned)m % 100, (unsigned)d % 100, seq % 1000);
    out[17] = seed_id_check_char(out);
    out[18] = '\0';
    if (birth != NULL)
        *birth = day;
    if (male != NULL)
        *male = seq % 2 == 1;
}

int seed_id_number(uint64_t seed, uint64_t idx, char out[19])
{
    gen_ctx g;

    ctx_init(&g, seed, 0, 0);
    if (idx >= g.id_perm.n)
        return -1;
    id_number(&g, idx, out, NULL, NULL);
    return 0;
}

/* Licence file number: "3301" (Hangzhou) and 8 permuted digits. */
static void file_no(const gen_ctx *g, uint64_t idx, char out[13])
{
    snprintf(out, 13, "3301%08" PRIu64, (uint64_t)(perm_apply(&g->file_perm, idx) % FILE_SPACE));
}

int seed_file_no(uint64_t seed, uint64_t idx, char out[13])
{
    gen_ctx g;

    if (idx >= FILE_SPACE)
        return -1;
    ctx_init(&g, seed, 0, 0);
    file_no(&g, idx, out);
    return 0;
}

/* Decodes ordinal p < plate_space() into a plate number. The space is laid
 * out as 16 letter patterns (no letter; one letter at each of 5 positions;
 * two letters at each of 10 position pairs), each a block of
 * 24^letters * 10^digits numbers read in mixed radix: a bijection. */
static void plate_decode(uint64_t p, char out[6])
{
    unsigned mask = 0;

    for (unsigned m = 0; m < 32; m++) {
        int letters = __builtin_popcount(m);
        uint64_t size = 1;

        if (letters > 2)
            continue;
        for (int k = 0; k < 5; k++)
            size *= (m >> k) & 1 ? 24 : 10;
        if (p < size) {
            mask = m;
            break;
        }
        p -= size;
    }
    for (int k = 4; k >= 0; k--) {
        if ((mask >> k) & 1) {
            out[k] = plate_letters[p % 24];
            p /= 24;
        } else {
            out[k] = (char)('0' + p % 10);
            p /= 10;
        }
    }
    out[5] = '\0';
}

int seed_plate_number(uint64_t seed, uint64_t idx, char out[6])
{
    seed_perm p;

    if (idx >= plate_space())
        return -1;
    perm_init(&p, plate_space(), seed, ST_PERM_PLATE); /* as ctx_init does */
    plate_decode(perm_apply(&p, idx), out);
    return 0;
}

/* VIN: the model's WMI, five random descriptor characters, the check digit,
 * the model year, and then the index rotated by a per-seed offset within
 * VIN_SERIALS: position 11 (plant) carries its millions and positions 12-17
 * the rest, so VINs are unique for idx < 33 * 10^6, well beyond the plate
 * space. */
#define VIN_SERIALS (33ULL * 1000000)

static void vin_make(const char *wmi, uint64_t *s, int year, uint64_t idx, uint64_t seed,
                     char out[18])
{
    idx = (idx + rng_row(seed, ST_VEHICLE, UINT64_MAX) % VIN_SERIALS) % VIN_SERIALS;
    memcpy(out, wmi, 3);
    for (int k = 3; k < 8; k++)
        out[k] = vin_chars[below(s, sizeof vin_chars - 1)];
    out[8] = '0';
    out[9] = vin_years[(unsigned)(year - 2001) % (sizeof vin_years - 1)];
    out[10] = vin_chars[(idx / 1000000) % (sizeof vin_chars - 1)];
    snprintf(out + 11, 7, "%06u", (unsigned)(idx % 1000000));
    out[17] = '\0';
    out[8] = registration_vin_expected_check(out);
}

/* ---- rows ------------------------------------------------------------------ */

typedef struct out_row {
    char created[32];
} out_row;

typedef struct cit_row {
    char name[32];
    char idno[19];
    char phone[12];
    unsigned char *id_enc, *ph_enc;
    size_t id_enc_len, ph_enc_len;
    unsigned char id_hash[32], ph_hash[32];
    char birth[DATE_STR_SIZE];
    char address[192];
    char created[32];
} cit_row;

typedef struct lic_row {
    char file[13];
    const char *classes, *status;
    char cycle[DATE_STR_SIZE], from[DATE_STR_SIZE], until[DATE_STR_SIZE];
    char medical[DATE_STR_SIZE];
    int has_medical;
    int points;
    char created[32];
} lic_row;

typedef struct veh_row {
    char plate[REGISTRATION_PLATE_FORMAT_SIZE];
    char vin[18];
    char engine[48];
    const struct vkind *kind;
    const vmodel *model;
    const char *use, *status;
    int64_t owner;
    char inspect[DATE_STR_SIZE];
    int has_inspect;
    char registered[32];
} veh_row;

typedef union any_row {
    out_row o;
    cit_row c;
    lic_row l;
    veh_row v;
} any_row;

static int gen_outlet(const gen_ctx *g, int64_t i, any_row *row, db_val *v)
{
    const outlet_def *d = &outlets[i];
    uint64_t s = rng_row(g->seed, ST_OUTLET, (uint64_t)i);

    office_datetime(&s, add_years(g->today, -5), row->o.created);
    v[0] = DB_STR(d->code);
    v[1] = DB_STR(d->name);
    v[2] = DB_STR(d->type);
    v[3] = DB_STR("杭州");
    v[4] = DB_STR(d->address);
    v[5] = DB_STR(row->o.created);
    return 1;
}

static int gen_citizen(const gen_ctx *g, int64_t i, any_row *row, db_val *v)
{
    cit_row *r = &row->c;
    uint64_t s = rng_row(g->seed, ST_CITIZEN, (uint64_t)i);
    int32_t birth = 0, created = 0;
    int male = 0;
    size_t n = 0, k = 0;
    const char *const *given = NULL;
    size_t ngiven = 0;
    const char *sur = NULL, *g1 = NULL;
    unsigned no = 0, bldg = 0, unit = 0, room = 0;
    uint64_t mobile = 0;
    char second = 0;

    id_number(g, (uint64_t)i, r->idno, &birth, &male);
    given = male ? given_male : given_female;
    ngiven = male ? sizeof given_male / sizeof given_male[0]
                  : sizeof given_female / sizeof given_female[0];
    /* Surname (a Zhejiang top-ten one half the time), then one given
     * character (30%) or two. */
    sur = chance(&s, 500) ? surnames[below(&s, 10)]
                          : surnames[below(&s, sizeof surnames / sizeof surnames[0])];
    g1 = given[below(&s, ngiven)];
    n = (size_t)snprintf(r->name, sizeof r->name, "%s%s", sur, g1);
    if (!chance(&s, 300) && n < sizeof r->name)
        snprintf(r->name + n, sizeof r->name - n, "%s", given[below(&s, ngiven)]);
    second = (char)('3' + below(&s, 7));
    mobile = below(&s, 1000000000ULL);
    snprintf(r->phone, sizeof r->phone, "1%c%09" PRIu64, second, mobile);
    k = (size_t)below(&s, sizeof streets / sizeof streets[0]);
    no = 1 + (unsigned)below(&s, 899);
    if (chance(&s, 700)) {
        bldg = 1 + (unsigned)below(&s, 30);
        unit = 1 + (unsigned)below(&s, 4);
        room = (1 + (unsigned)below(&s, 25)) * 100;
        room += 1 + (unsigned)below(&s, 4);
        snprintf(r->address, sizeof r->address, "浙江省杭州市%s%s%u号%u幢%u单元%u室",
                 streets[k].district, streets[k].street, no, bldg, unit, room);
    } else {
        snprintf(r->address, sizeof r->address, "浙江省杭州市%s%s%u号", streets[k].district,
                 streets[k].street, no);
    }
    fmt_date(birth, r->birth);
    created = ymd(2012, 1, 1) + (int32_t)below(&s, (uint64_t)(g->today - ymd(2012, 1, 1)));
    office_datetime(&s, created, r->created);
    r->id_enc = r->ph_enc = NULL;
    if (pii_seal(PII_ID_NUMBER, r->idno, &r->id_enc, &r->id_enc_len) != 0 ||
        pii_seal(PII_PHONE, r->phone, &r->ph_enc, &r->ph_enc_len) != 0)
        return -1;
    pii_hash(PII_ID_NUMBER, r->idno, r->id_hash);
    pii_hash(PII_PHONE, r->phone, r->ph_hash);

    v[0] = DB_I64(g->cit_off + i + 1);
    v[1] = DB_STR(r->name);
    v[2] = DB_BLOB(r->id_enc, r->id_enc_len);
    v[3] = DB_BLOB(r->id_hash, 32);
    v[4] = DB_BLOB(r->ph_enc, r->ph_enc_len);
    v[5] = DB_BLOB(r->ph_hash, 32);
    v[6] = DB_STR(r->birth);
    v[7] = DB_I64(chance(&s, 30)); /* about 3% disabled */
    v[8] = DB_STR(r->address);
    v[9] = DB_STR(r->created);
    return 1;
}

static void drop_citizen(any_row *row)
{
    free(row->c.id_enc);
    free(row->c.ph_enc);
    row->c.id_enc = row->c.ph_enc = NULL;
}

static const struct {
    const char *classes;
    unsigned per_mille;
} licence_classes[] = {
    {"C1", 700}, {"C2", 120}, {"B2", 70}, {"C1,D", 70}, {"A1,A2", 40},
};

/* A licence for every citizen aged 18 or more (on SEED_TODAY). */
static int gen_licence(const gen_ctx *g, int64_t i, any_row *row, db_val *v)
{
    lic_row *r = &row->l;
    uint64_t s = rng_row(g->seed, ST_LICENCE, (uint64_t)i);
    char idno[19];
    int32_t birth = 0, first = 0, lo = 0, hi = 0, from = 0, until = 0, prev_from = 0, cycle = 0;
    int len = 6, prev_len = 0, age = 0, y = 0, m = 0, d = 0;
    unsigned pick = 0;

    id_number(g, (uint64_t)i, idno, &birth, NULL);
    age = age_at(birth, g->today);
    if (age < 18)
        return 0;
    file_no(g, (uint64_t)i, r->file);
    pick = (unsigned)below(&s, 1000);
    r->classes = licence_classes[0].classes;
    for (size_t k = 0; k < sizeof licence_classes / sizeof licence_classes[0]; k++) {
        if (pick < licence_classes[k].per_mille) {
            r->classes = licence_classes[k].classes;
            break;
        }
        pick -= licence_classes[k].per_mille;
    }
    /* First licensed at 18 or later, not before 1990, at least a month ago. */
    lo = add_years(birth, 18);
    if (lo < ymd(1990, 1, 1))
        lo = ymd(1990, 1, 1);
    hi = g->today - 30;
    first = lo < hi ? lo + (int32_t)below(&s, (uint64_t)(hi - lo)) : hi;
    /* Validity periods: 6 years, then 10, then "long term" (20 here). */
    from = first;
    while (add_years(from, len) <= g->today) {
        prev_from = from;
        prev_len = len;
        from = add_years(from, len);
        len = len == 6 ? 10 : 20;
    }
    until = add_years(from, len);
    r->status = "valid";
    pick = (unsigned)below(&s, 1000);
    if (pick < 20 && prev_len > 0) {
        /* Never renewed: the previous period is the last one. */
        r->status = "expired";
        from = prev_from;
        until = add_years(prev_from, prev_len);
    } else if (pick >= 20 && pick < 35) {
        r->status = "suspended";
    }
    /* Scoring cycle: the last anniversary of the first licence. */
    date_to_ymd(first, &y, &m, &d);
    {
        int ty = 0;

        date_to_ymd(g->today, &ty, NULL, NULL);
        cycle = ymd(ty, m, d);
        if (cycle > g->today)
            cycle = ymd(ty - 1, m, d);
        if (cycle < first)
            cycle = first;
    }
    r->points = chance(&s, 800) ? 0 : 1 + (int)below(&s, 11);
    fmt_date(cycle, r->cycle);
    fmt_date(from, r->from);
    fmt_date(until, r->until);
    /* Drivers of 70 and over renew their medical certificate every year. */
    r->has_medical = age >= 70;
    if (r->has_medical)
        fmt_date(g->today + 1 + (int32_t)below(&s, 365), r->medical);
    office_datetime(&s, first, r->created);

    v[0] = DB_I64(g->lic_off + i + 1);
    v[1] = DB_I64(g->cit_off + i + 1);
    v[2] = DB_STR(r->file);
    v[3] = DB_STR(r->classes);
    v[4] = DB_I64(r->points);
    v[5] = DB_STR(r->cycle);
    v[6] = DB_STR(r->status);
    v[7] = DB_STR(r->from);
    v[8] = DB_STR(r->until);
    v[9] = r->has_medical ? DB_STR(r->medical) : DB_NULL;
    v[10] = DB_STR(r->created);
    return 1;
}

/* Fills r; the VIN and plate only depend on (seed, people, idx). */
static void vehicle_fields(const gen_ctx *g, int64_t i, veh_row *r)
{
    uint64_t s = rng_row(g->seed, ST_VEHICLE, (uint64_t)i);
    unsigned pick = (unsigned)below(&s, 100);
    int32_t owner_birth = 0, lo = 0, reg = 0;
    int reg_year = 0;
    char idno[19], number[6];
    uint64_t owner_idx = below(&s, (uint64_t)(g->people > 0 ? g->people : 1));

    r->kind = &kinds[0];
    for (size_t k = 0; k < N_KINDS; k++) {
        if (pick < kinds[k].weight) {
            r->kind = &kinds[k];
            break;
        }
        pick -= kinds[k].weight;
    }
    r->model = &r->kind->models[below(&s, (uint64_t)r->kind->nmodels)];
    r->owner = g->cit_off + (int64_t)owner_idx + 1;
    /* Registered in the last 15 years, and after the owner turned 18. */
    id_number(g, owner_idx, idno, &owner_birth, NULL);
    lo = add_years(g->today, -15);
    if (add_years(owner_birth, 18) > lo)
        lo = add_years(owner_birth, 18);
    reg = lo < g->today - 1 ? lo + (int32_t)below(&s, (uint64_t)(g->today - 1 - lo)) : g->today - 1;
    office_datetime(&s, reg, r->registered);
    date_to_ymd(reg, &reg_year, NULL, NULL);

    plate_decode(perm_apply(&g->plate_perm, (uint64_t)i), number);
    /* Stored without the middle dot, as registration and violations do;
     * 浙A·12345 is the display form. */
    snprintf(r->plate, sizeof r->plate, "%s%s", g->prefix, number);
    vin_make(r->model->wmi, &s, reg_year, (uint64_t)i, g->seed, r->vin);
    snprintf(r->engine, sizeof r->engine, "%s%08" PRIu64, r->model->engine,
             (uint64_t)(perm_apply(&g->engine_perm, (uint64_t)i) % ENGINE_SPACE));

    pick = (unsigned)below(&s, 100);
    if (r->kind->type[0] == 'H')
        r->use = pick < 90 ? "freight" : "business";
    else if (strcmp(r->kind->type, "K11") == 0)
        r->use = "bus";
    else if (r->kind->type[0] == 'M')
        r->use = "private";
    else
        r->use = pick < 86 ? "private" : pick < 89 ? "business" : pick < 92 ? "government"
               : strcmp(r->kind->type, "K33") == 0 ? "taxi" : "private";
    pick = (unsigned)below(&s, 1000);
    r->status = pick < 960 ? "normal" : pick < 970 ? "pending" : pick < 985 ? "seized" : "scrapped";
    r->has_inspect = pick < 985; /* a scrapped vehicle is never inspected again */
    if (r->has_inspect)
        fmt_date(g->today + 1 + (int32_t)below(&s, 730), r->inspect);
}

static int gen_vehicle(const gen_ctx *g, int64_t i, any_row *row, db_val *v)
{
    veh_row *r = &row->v;

    vehicle_fields(g, i, r);
    v[0] = DB_I64(g->veh_off + i + 1);
    v[1] = DB_STR(r->plate);
    v[2] = DB_STR(r->vin);
    v[3] = DB_STR(r->engine);
    v[4] = DB_STR(r->kind->type);
    v[5] = DB_STR(r->kind->cls);
    v[6] = DB_STR(r->use);
    v[7] = DB_STR(r->model->brand);
    v[8] = DB_STR(r->model->model);
    v[9] = DB_I64(r->owner);
    v[10] = DB_STR(r->status);
    v[11] = r->has_inspect ? DB_STR(r->inspect) : DB_NULL;
    v[12] = DB_STR(r->registered);
    return 1;
}

int seed_vin(uint64_t seed, int64_t people, uint64_t idx, char out[18])
{
    gen_ctx g;
    veh_row r;

    if (idx >= plate_space() || people < 1)
        return -1;
    ctx_init(&g, seed, people, (int64_t)idx + 1);
    vehicle_fields(&g, (int64_t)idx, &r);
    memcpy(out, r.vin, 18);
    return 0;
}

/* ---- statements ------------------------------------------------------------ */

enum { SH_OUTLETS, SH_CITIZENS, SH_LICENCES, SH_VEHICLES, SH_COUNT };

static const struct {
    const char *head;
    int cols;
} shapes[SH_COUNT] = {
    {"INSERT IGNORE INTO outlets (code, name, type, city, address, created_at) VALUES ", 6},
    {"INSERT IGNORE INTO citizens (id, name, id_number_enc, id_number_hash, phone_enc, phone_hash,"
     " birth_date, disabled, address, created_at) VALUES ", 10},
    {"INSERT IGNORE INTO licences (id, citizen_id, file_no, classes, points, cycle_start, status,"
     " valid_from, valid_until, next_medical_date, created_at) VALUES ", 11},
    {"INSERT IGNORE INTO vehicles (id, plate, vin, engine_no, vehicle_type, class_required,"
     " use_type, brand, model, owner_citizen_id, status, next_inspection_date, registered_at)"
     " VALUES ", 13},
};

/* Statement texts, one per shape and per row count 2^k, built on first use
 * and never freed: db.c caches prepared statements by the text's ADDRESS,
 * so a text must keep its address (and content) for the life of the process
 * - freeing one could let a later allocation reuse the address for another
 * statement and hit the wrong cached statement. */
static char *stmt_text[SH_COUNT][SEED_BATCH_LOG2 + 1];
static pthread_mutex_t stmt_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *stmt_get(int shape, int k)
{
    char *t = NULL;

    pthread_mutex_lock(&stmt_lock);
    t = stmt_text[shape][k];
    if (t == NULL) {
        size_t rows = (size_t)1 << k, cols = (size_t)shapes[shape].cols;
        size_t head = strlen(shapes[shape].head), tuple = 2 * cols + 2; /* "(?,?)," */
        char *p = NULL;

        t = malloc(head + rows * tuple + 1);
        if (t == NULL)
            abort();
        memcpy(t, shapes[shape].head, head);
        p = t + head;
        for (size_t r = 0; r < rows; r++) {
            *p++ = r ? ',' : '(';
            if (r)
                *p++ = '(';
            for (size_t c = 0; c < cols; c++) {
                *p++ = '?';
                *p++ = c + 1 < cols ? ',' : ')';
            }
        }
        *p = '\0';
        stmt_text[shape][k] = t;
    }
    pthread_mutex_unlock(&stmt_lock);
    return t;
}

/* ---- progress ---------------------------------------------------------------- */

typedef struct progress {
    int on;
    const char *table;
    int64_t total, done;
    int64_t t0_ms, last_ms;
    int width;
} progress;

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void progress_start(progress *p, const char *table, int64_t total)
{
    p->table = table;
    p->total = total;
    p->done = 0;
    p->t0_ms = now_ms();
    p->last_ms = 0;
}

/* One line per table, rewritten in place ("\r") at most 4 times a second;
 * the final call ends it with a newline. */
static void progress_show(progress *p, int final)
{
    int64_t t = 0, el = 0;
    double rate = 0;
    long left = 0;
    int w = 0;

    if (!p->on)
        return;
    t = now_ms();
    if (!final && t - p->last_ms < 250)
        return;
    p->last_ms = t;
    el = t - p->t0_ms;
    rate = el > 0 ? (double)p->done * 1000.0 / (double)el : 0.0;
    left = rate > 0 ? (long)((double)(p->total - p->done) / rate + 0.5) : 0;
    if (final)
        w = fprintf(stderr, "\r%-8s %lld/%lld rows  %.0f rows/s  done in %.1f s", p->table,
                    (long long)p->done, (long long)p->total, rate, (double)el / 1000.0);
    else
        w = fprintf(stderr, "\r%-8s %lld/%lld rows  %.0f rows/s  %ld:%02ld left", p->table,
                    (long long)p->done, (long long)p->total, rate, left / 60, left % 60);
    /* Blank out the rest of a longer previous line. */
    if (w < p->width)
        fprintf(stderr, "%*s", p->width - w, "");
    p->width = w;
    if (final) {
        fputc('\n', stderr);
        p->width = 0;
    }
    fflush(stderr);
}

/* ---- loading ------------------------------------------------------------------ */

typedef int (*gen_fn)(const gen_ctx *g, int64_t i, any_row *row, db_val *vals);
typedef void (*drop_fn)(any_row *row);

typedef struct table_def {
    const char *name;
    int shape;
    gen_fn gen;
    drop_fn drop;
} table_def;

static const table_def tables[] = {
    {"outlets", SH_OUTLETS, gen_outlet, NULL},
    {"citizens", SH_CITIZENS, gen_citizen, drop_citizen},
    {"licences", SH_LICENCES, gen_licence, NULL},
    {"vehicles", SH_VEHICLES, gen_vehicle, NULL},
};
#define N_TABLES (sizeof tables / sizeof tables[0])

typedef struct batch_arg {
    const gen_ctx *g;
    const table_def *t;
    int nrows;
    const db_val *vals;
    int strict;     /* every row must be new (not a resumed table) */
    int marker;     /* also write the demo_seed row */
    int64_t affected;
    const char *why;
} batch_arg;

/* One transaction: the batch as one statement per set bit of nrows (a full
 * batch is a single statement), then the marker if this is the last one. */
static int batch_tx(db_conn *c, void *arg)
{
    batch_arg *a = arg;
    int cols = shapes[a->t->shape].cols, pos = 0;

    a->affected = 0;
    a->why = NULL;
    for (int k = SEED_BATCH_LOG2; k >= 0; k--) {
        uint64_t aff = 0;
        int n = 1 << k;

        if (!(a->nrows & n))
            continue;
        if (db_exec(c, stmt_get(a->t->shape, k), a->vals + (size_t)pos * cols, n * cols, &aff,
                    NULL) != 0)
            return -1;
        a->affected += (int64_t)aff;
        pos += n;
    }
    /* INSERT IGNORE also skips a row that collides with data not made by
     * this run: on a table we did not resume, that is a bug or foreign data,
     * never something to pass over silently. */
    if (a->strict && a->affected != a->nrows) {
        a->why = "rows collided with existing data (duplicate key)";
        return -1;
    }
    if (a->marker &&
        db_exec(c, SQL_MARKER_ADD,
                DBP(DB_I64((int64_t)a->g->seed), DB_I64(a->g->people), DB_I64(a->g->vehicles)),
                NULL, NULL) != 0)
        return -1;
    return 0;
}

typedef struct loader {
    db_conn *c;
    gen_ctx *g;
    any_row *rows;
    db_val *vals;
    progress pr;
    int64_t loaded;
    char *err;
    size_t errlen;
} loader;

static int load_table(loader *L, const table_def *t, int64_t total, int strict, int marker_last)
{
    int cols = shapes[t->shape].cols;

    progress_start(&L->pr, t->name, total);
    for (int64_t start = 0; start < total; start += SEED_BATCH) {
        int64_t end = start + SEED_BATCH < total ? start + SEED_BATCH : total;
        int nrows = 0, rc = -1;
        int is_last = end == total;
        batch_arg a = {.g = L->g, .t = t, .vals = L->vals, .strict = strict,
                       .marker = marker_last && is_last};

        for (int64_t i = start; i < end; i++) {
            int r = t->gen(L->g, i, &L->rows[nrows], L->vals + (size_t)nrows * cols);

            if (r < 0) {
                nrows++; /* its half-made sealed values still need freeing */
                snprintf(L->err, L->errlen, "%s: cannot seal personal data (pii keys?)", t->name);
                goto drop;
            }
            nrows += r;
        }
        a.nrows = nrows;
        if (nrows == 0 && !a.marker) {
            rc = 0;
        } else if (db_tx(L->c, batch_tx, &a, SEED_TX_ATTEMPTS, NULL) == 0) {
            L->loaded += a.affected;
            rc = 0;
        } else if (db_error(L->c) == DB_OK && a.why != NULL) {
            snprintf(L->err, L->errlen, "%s: rows %lld-%lld: %s", t->name, (long long)start + 1,
                     (long long)end, a.why);
        } else {
            snprintf(L->err, L->errlen, "%s: %s", t->name, db_errmsg(L->c));
        }
drop:
        if (t->drop != NULL)
            for (int k = 0; k < nrows; k++)
                t->drop(&L->rows[k]);
        if (rc != 0) {
            if (L->pr.on)
                fputc('\n', stderr);
            return -1;
        }
        L->pr.done = end;
        progress_show(&L->pr, is_last);
    }
    return 0;
}

/* One BIGINT from a one-row query; *found = 0 when there is no row. */
static int query_i64(db_conn *c, const char *sql, const db_val *params, int n, int64_t *out,
                     int *found)
{
    db_rows *r = NULL;

    if (db_query(c, sql, params, n, &r) != 0)
        return -1;
    *found = r->nrows > 0 && db_cell(r, 0, 0) != NULL;
    *out = *found ? db_cell_i64(r, 0, 0) : 0;
    db_rows_free(r);
    return 0;
}

/* Where table's rows start: if its first row (index first, looked up by a
 * unique key) is already there, a previous run of this seed died midway and
 * we continue at the same ids; otherwise after the largest id. */
static int find_offset(db_conn *c, const char *table, const char *find_sql, db_val key,
                       const char *max_sql, int64_t first, int64_t *off, int *resumed,
                       char *err, size_t errlen)
{
    int64_t v = 0;
    int found = 0;

    if (query_i64(c, find_sql, &key, 1, &v, &found) != 0)
        goto fail;
    if (found) {
        *off = v - 1 - first;
        *resumed = 1;
        return 0;
    }
    if (query_i64(c, max_sql, NULL, 0, &v, &found) != 0)
        goto fail;
    *off = v;
    *resumed = 0;
    return 0;
fail:
    snprintf(err, errlen, "%s: %s", table, db_errmsg(c));
    return -1;
}

int seed_run(db_conn *c, const seed_opts *o, int64_t *loaded, char *err, size_t errlen)
{
    gen_ctx g;
    loader L = {.c = c, .g = &g, .err = err, .errlen = errlen};
    int64_t people = o->people >= 0 ? o->people : 1000;
    int64_t vehicles = o->vehicles >= 0 ? o->vehicles : people * 6 / 5;
    const char *prefix = o->plate_prefix != NULL && o->plate_prefix[0] ? o->plate_prefix : "浙A";
    int64_t v = 0, first_lic = -1, totals[N_TABLES];
    int found = 0, locked = 0, rc = -1, resumed[N_TABLES] = {0}, last = 0;
    char key[32];
    unsigned char hash[32];

    *loaded = 0;
    if (errlen > 0)
        err[0] = '\0';
    ctx_init(&g, o->seed, people, vehicles);
    g.prefix = prefix;
    if (registration_plate_prefix_check(prefix, NULL) != 0) {
        snprintf(err, errlen, "plate prefix %s is not a province and office letter (e.g. 浙A)",
                 prefix);
        return -1;
    }
    if ((uint64_t)people > g.id_perm.n || (uint64_t)people > FILE_SPACE) {
        snprintf(err, errlen, "citizens: at most %llu people", (unsigned long long)FILE_SPACE);
        return -1;
    }
    if ((uint64_t)vehicles > plate_space()) {
        snprintf(err, errlen, "vehicles: at most %llu (the plate numbers of one prefix)",
                 (unsigned long long)plate_space());
        return -1;
    }
    if (vehicles > 0 && people == 0) {
        snprintf(err, errlen, "vehicles: need at least one citizen to own them");
        return -1;
    }
    if (pii_keyring() == NULL) {
        snprintf(err, errlen, "citizens: the pii keyring is not loaded");
        return -1;
    }
    if (db_conn_ensure(c) != 0) {
        snprintf(err, errlen, "database: %s", db_errmsg(c));
        return -1;
    }
    if (query_i64(c, SQL_LOCK, NULL, 0, &v, &found) != 0) {
        snprintf(err, errlen, "lock: %s", db_errmsg(c));
        return -1;
    }
    if (v != 1) {
        snprintf(err, errlen, "another seed run holds the lock 'onetrip_seed'");
        return -1;
    }
    locked = 1;
    /* The demo city is loaded once: any marker, this seed's or another's. */
    if (query_i64(c, SQL_MARKER_ANY, NULL, 0, &v, &found) != 0) {
        snprintf(err, errlen, "demo_seed: %s", db_errmsg(c));
        goto done;
    }
    if (found) {
        rc = 0;
        goto done;
    }

    if (people > 0) {
        id_number(&g, 0, key, NULL, NULL);
        pii_hash(PII_ID_NUMBER, key, hash);
        if (find_offset(c, "citizens", SQL_FIND_CITIZEN, DB_BLOB(hash, 32), SQL_MAX_CITIZEN, 0,
                        &g.cit_off, &resumed[1], err, errlen) != 0)
            goto done;
        for (int64_t i = 0; i < people && first_lic < 0; i++) {
            int32_t birth = 0;

            id_number(&g, (uint64_t)i, key, &birth, NULL);
            if (age_at(birth, g.today) >= 18)
                first_lic = i;
        }
    }
    if (first_lic >= 0) {
        file_no(&g, (uint64_t)first_lic, key);
        if (find_offset(c, "licences", SQL_FIND_LICENCE, DB_STR(key), SQL_MAX_LICENCE, first_lic,
                        &g.lic_off, &resumed[2], err, errlen) != 0)
            goto done;
    }
    if (vehicles > 0) {
        veh_row vr;

        vehicle_fields(&g, 0, &vr);
        if (find_offset(c, "vehicles", SQL_FIND_VEHICLE, DB_STR(vr.vin), SQL_MAX_VEHICLE, 0,
                        &g.veh_off, &resumed[3], err, errlen) != 0)
            goto done;
    }

    L.rows = calloc(SEED_BATCH, sizeof *L.rows);
    L.vals = calloc((size_t)SEED_BATCH * SEED_MAX_COLS, sizeof *L.vals);
    if (L.rows == NULL || L.vals == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    L.pr.on = o->progress;
    totals[0] = N_OUTLETS;
    totals[1] = people;
    totals[2] = first_lic >= 0 ? people : 0;
    totals[3] = vehicles;
    for (size_t t = 0; t < N_TABLES; t++)
        if (totals[t] > 0)
            last = (int)t;
    for (size_t t = 0; t < N_TABLES; t++) {
        /* Outlets may already exist (same codes from an operator set-up):
         * they are never strict. */
        int strict = t > 0 && !resumed[t];

        if (totals[t] > 0 &&
            load_table(&L, &tables[t], totals[t], strict, (int)t == last) != 0)
            goto done;
    }
    *loaded = L.loaded;
    rc = 0;
done:
    /* A failed unlock is ignored: the lock also ends with the session, and
     * the data (or the error) is what the caller needs to hear about. */
    if (locked)
        (void)query_i64(c, SQL_UNLOCK, NULL, 0, &v, &found);
    free(L.rows);
    free(L.vals);
    return rc;
}
