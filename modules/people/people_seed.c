/* people_seed.c - the people module's part of the demo city (`onetripd
 * seed`, machinery in db/seed.h): outlets, citizens, their licences and
 * vehicles, the tables this module owns.
 *
 * Every row is a pure function of (seed, table, row index) through the
 * db/seed.h streams; the unique columns (ID number, licence file number,
 * plate, VIN, engine number) come from bijections of the index, never from
 * random draws with retries, so a million plates cannot collide. ID numbers
 * carry the check character of people_id.h; plates and VINs are made by
 * registration's generators (registration.h), so the demo city passes the
 * same checks as real input.
 *
 * The stream numbers (ST_*) and every draw's order are part of the demo
 * data: changing either makes another city from the same seed
 * (tests/integration/seed.test.mjs pins its checksums).
 */
#include "modules/people/people_seed.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/seed.h"
#include "modules/people/people_id.h"
#include "modules/registration/registration.h"
#include "server/date.h"
#include "server/pii.h"

/* Independent random streams per table (and per bijection). */
enum {
    ST_OUTLET = 1, ST_CITIZEN, ST_LICENCE, ST_VEHICLE,
    ST_PERM_ID, ST_PERM_FILE, ST_PERM_PLATE, ST_PERM_ENGINE,
};

static const char SQL_FIND_CITIZEN[] = "SELECT id FROM citizens WHERE id_number_hash = ?";
static const char SQL_FIND_LICENCE[] = "SELECT id FROM licences WHERE file_no = ?";
static const char SQL_FIND_VEHICLE[] = "SELECT id FROM vehicles WHERE vin = ?";
static const char SQL_MAX_CITIZEN[] = "SELECT COALESCE(MAX(id), 0) FROM citizens";
static const char SQL_MAX_LICENCE[] = "SELECT COALESCE(MAX(id), 0) FROM licences";
static const char SQL_MAX_VEHICLE[] = "SELECT COALESCE(MAX(id), 0) FROM vehicles";
/* Heads of the multi-row inserts (seed_load appends the rows). */
static const char SQL_ADD_OUTLETS[] =
    "INSERT IGNORE INTO outlets (code, name, type, city, address, created_at) VALUES ";
static const char SQL_ADD_CITIZENS[] =
    "INSERT IGNORE INTO citizens (id, name, id_number_enc, id_number_hash, phone_enc, phone_hash,"
    " birth_date, disabled, address, created_at) VALUES ";
static const char SQL_ADD_LICENCES[] =
    "INSERT IGNORE INTO licences (id, citizen_id, file_no, classes, points, cycle_start, status,"
    " valid_from, valid_until, next_medical_date, created_at) VALUES ";
static const char SQL_ADD_VEHICLES[] =
    "INSERT IGNORE INTO vehicles (id, plate, vin, engine_no, vehicle_type, class_required,"
    " use_type, brand, model, owner_citizen_id, status, next_inspection_date, registered_at)"
    " VALUES ";

/* ---- dates --------------------------------------------------------------- */

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

/* Sizes of the number spaces, for bounds checks (plates: REGISTRATION_PLATE_SPACE). */
#define FILE_SPACE 100000000ULL   /* 8 digits after "3301" */
#define ENGINE_SPACE 100000000ULL /* 8 digits after the engine family */
#define DEFAULT_PREFIX "浙A"       /* Hangzhou */

static void ctx_init(gen_ctx *g, uint64_t seed, int64_t people, int64_t vehicles)
{
    memset(g, 0, sizeof *g);
    g->seed = seed;
    g->people = people;
    g->vehicles = vehicles;
    g->today = seed_today();
    g->birth_lo = seed_ymd(BIRTH_Y0, 1, 1);
    g->birth_days = (uint64_t)(seed_ymd(BIRTH_Y1, 12, 31) - g->birth_lo + 1);
    seed_perm_init(&g->id_perm, N_REGIONS * g->birth_days * 1000, seed, ST_PERM_ID);
    seed_perm_init(&g->file_perm, FILE_SPACE, seed, ST_PERM_FILE);
    seed_perm_init(&g->plate_perm, REGISTRATION_PLATE_SPACE, seed, ST_PERM_PLATE);
    seed_perm_init(&g->engine_perm, ENGINE_SPACE, seed, ST_PERM_ENGINE);
    g->prefix = DEFAULT_PREFIX;
}

/* ---- identifiers ---------------------------------------------------------- */

/* Citizen idx's ID number: the permuted index, read in mixed radix, picks
 * the sequence number, the region and the birth day, so two citizens never
 * share a number. Odd sequence numbers are men (as in real numbers). */
static void id_number(const gen_ctx *g, uint64_t idx, char out[19], int32_t *birth, int *male)
{
    uint64_t p = seed_perm_apply(&g->id_perm, idx);
    unsigned seq = (unsigned)(p % 1000);
    unsigned reg = (unsigned)((p / 1000) % N_REGIONS);
    int32_t day = g->birth_lo + (int32_t)(p / 1000 / N_REGIONS);
    int y = 0, m = 0, d = 0;

    date_to_ymd(day, &y, &m, &d);
    snprintf(out, 19, "%s%04u%02u%02u%03u", id_regions[reg], (unsigned)y % 10000,
             (unsigned)m % 100, (unsigned)d % 100, seq % 1000);
    out[17] = people_id_check_char(out);
    out[18] = '\0';
    if (birth != NULL)
        *birth = day;
    if (male != NULL)
        *male = seq % 2 == 1;
}

int people_seed_id_number(uint64_t seed, uint64_t idx, char out[19])
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
    snprintf(out, 13, "3301%08" PRIu64, (uint64_t)(seed_perm_apply(&g->file_perm, idx) % FILE_SPACE));
}

int people_seed_file_no(uint64_t seed, uint64_t idx, char out[13])
{
    gen_ctx g;

    if (idx >= FILE_SPACE)
        return -1;
    ctx_init(&g, seed, 0, 0);
    file_no(&g, idx, out);
    return 0;
}

int people_seed_plate_number(uint64_t seed, uint64_t idx, char out[6])
{
    seed_perm p;

    if (idx >= REGISTRATION_PLATE_SPACE)
        return -1;
    seed_perm_init(&p, REGISTRATION_PLATE_SPACE, seed, ST_PERM_PLATE); /* as ctx_init does */
    return registration_plate_number_at(seed_perm_apply(&p, idx), out);
}

/* VIN: the model's WMI, five random descriptor characters, and the index
 * rotated by a per-seed offset as the serial (registration composes it and
 * its check digit), so VINs are unique for idx < 33 * 10^6, well beyond the
 * plate space. */
static void vin_make(const char *wmi, uint64_t *s, int year, uint64_t idx, uint64_t seed,
                     char out[18])
{
    static const char chars[] = REGISTRATION_VIN_CHARS;
    char vds[6];

    idx = (idx + seed_rng_row(seed, ST_VEHICLE, UINT64_MAX) % REGISTRATION_VIN_SERIALS) %
          REGISTRATION_VIN_SERIALS;
    for (int k = 0; k < 5; k++)
        vds[k] = chars[seed_below(s, REGISTRATION_VIN_NCHARS)];
    vds[5] = '\0';
    /* Cannot fail: a WMI of the model table, years from 2011 on. */
    (void)registration_vin_compose(wmi, vds, year, idx, out);
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
    uint64_t s = seed_rng_row(g->seed, ST_OUTLET, (uint64_t)i);

    seed_office_datetime(&s, seed_add_years(g->today, -5), row->o.created);
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
    uint64_t s = seed_rng_row(g->seed, ST_CITIZEN, (uint64_t)i);
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
    sur = seed_chance(&s, 500) ? surnames[seed_below(&s, 10)]
                          : surnames[seed_below(&s, sizeof surnames / sizeof surnames[0])];
    g1 = given[seed_below(&s, ngiven)];
    n = (size_t)snprintf(r->name, sizeof r->name, "%s%s", sur, g1);
    if (!seed_chance(&s, 300) && n < sizeof r->name)
        snprintf(r->name + n, sizeof r->name - n, "%s", given[seed_below(&s, ngiven)]);
    second = (char)('3' + seed_below(&s, 7));
    mobile = seed_below(&s, 1000000000ULL);
    snprintf(r->phone, sizeof r->phone, "1%c%09" PRIu64, second, mobile);
    k = (size_t)seed_below(&s, sizeof streets / sizeof streets[0]);
    no = 1 + (unsigned)seed_below(&s, 899);
    if (seed_chance(&s, 700)) {
        bldg = 1 + (unsigned)seed_below(&s, 30);
        unit = 1 + (unsigned)seed_below(&s, 4);
        room = (1 + (unsigned)seed_below(&s, 25)) * 100;
        room += 1 + (unsigned)seed_below(&s, 4);
        snprintf(r->address, sizeof r->address, "浙江省杭州市%s%s%u号%u幢%u单元%u室",
                 streets[k].district, streets[k].street, no, bldg, unit, room);
    } else {
        snprintf(r->address, sizeof r->address, "浙江省杭州市%s%s%u号", streets[k].district,
                 streets[k].street, no);
    }
    date_format(birth, r->birth);
    created = seed_ymd(2012, 1, 1) + (int32_t)seed_below(&s, (uint64_t)(g->today - seed_ymd(2012, 1, 1)));
    seed_office_datetime(&s, created, r->created);
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
    v[7] = DB_I64(seed_chance(&s, 30)); /* about 3% disabled */
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

/* A licence for every citizen aged 18 or more (on seed_today()). */
static int gen_licence(const gen_ctx *g, int64_t i, any_row *row, db_val *v)
{
    lic_row *r = &row->l;
    uint64_t s = seed_rng_row(g->seed, ST_LICENCE, (uint64_t)i);
    char idno[19];
    int32_t birth = 0, first = 0, lo = 0, hi = 0, from = 0, until = 0, prev_from = 0, cycle = 0;
    int len = 6, prev_len = 0, age = 0, y = 0, m = 0, d = 0;
    unsigned pick = 0;

    id_number(g, (uint64_t)i, idno, &birth, NULL);
    age = age_at(birth, g->today);
    if (age < 18)
        return 0;
    file_no(g, (uint64_t)i, r->file);
    pick = (unsigned)seed_below(&s, 1000);
    r->classes = licence_classes[0].classes;
    for (size_t k = 0; k < sizeof licence_classes / sizeof licence_classes[0]; k++) {
        if (pick < licence_classes[k].per_mille) {
            r->classes = licence_classes[k].classes;
            break;
        }
        pick -= licence_classes[k].per_mille;
    }
    /* First licensed at 18 or later, not before 1990, at least a month ago. */
    lo = seed_add_years(birth, 18);
    if (lo < seed_ymd(1990, 1, 1))
        lo = seed_ymd(1990, 1, 1);
    hi = g->today - 30;
    first = lo < hi ? lo + (int32_t)seed_below(&s, (uint64_t)(hi - lo)) : hi;
    /* Validity periods: 6 years, then 10, then "long term" (20 here). */
    from = first;
    while (seed_add_years(from, len) <= g->today) {
        prev_from = from;
        prev_len = len;
        from = seed_add_years(from, len);
        len = len == 6 ? 10 : 20;
    }
    until = seed_add_years(from, len);
    r->status = "valid";
    pick = (unsigned)seed_below(&s, 1000);
    if (pick < 20 && prev_len > 0) {
        /* Never renewed: the previous period is the last one. */
        r->status = "expired";
        from = prev_from;
        until = seed_add_years(prev_from, prev_len);
    } else if (pick >= 20 && pick < 35) {
        r->status = "suspended";
    }
    /* Scoring cycle: the last anniversary of the first licence. */
    date_to_ymd(first, &y, &m, &d);
    {
        int ty = 0;

        date_to_ymd(g->today, &ty, NULL, NULL);
        cycle = seed_ymd(ty, m, d);
        if (cycle > g->today)
            cycle = seed_ymd(ty - 1, m, d);
        if (cycle < first)
            cycle = first;
    }
    r->points = seed_chance(&s, 800) ? 0 : 1 + (int)seed_below(&s, 11);
    date_format(cycle, r->cycle);
    date_format(from, r->from);
    date_format(until, r->until);
    /* Drivers of 70 and over renew their medical certificate every year. */
    r->has_medical = age >= 70;
    if (r->has_medical)
        date_format(g->today + 1 + (int32_t)seed_below(&s, 365), r->medical);
    seed_office_datetime(&s, first, r->created);

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
    uint64_t s = seed_rng_row(g->seed, ST_VEHICLE, (uint64_t)i);
    unsigned pick = (unsigned)seed_below(&s, 100);
    int32_t owner_birth = 0, lo = 0, reg = 0;
    int reg_year = 0;
    char idno[19], number[6];
    uint64_t owner_idx = seed_below(&s, (uint64_t)(g->people > 0 ? g->people : 1));

    r->kind = &kinds[0];
    for (size_t k = 0; k < N_KINDS; k++) {
        if (pick < kinds[k].weight) {
            r->kind = &kinds[k];
            break;
        }
        pick -= kinds[k].weight;
    }
    r->model = &r->kind->models[seed_below(&s, (uint64_t)r->kind->nmodels)];
    r->owner = g->cit_off + (int64_t)owner_idx + 1;
    /* Registered in the last 15 years, and after the owner turned 18. */
    id_number(g, owner_idx, idno, &owner_birth, NULL);
    lo = seed_add_years(g->today, -15);
    if (seed_add_years(owner_birth, 18) > lo)
        lo = seed_add_years(owner_birth, 18);
    reg = lo < g->today - 1 ? lo + (int32_t)seed_below(&s, (uint64_t)(g->today - 1 - lo)) : g->today - 1;
    seed_office_datetime(&s, reg, r->registered);
    date_to_ymd(reg, &reg_year, NULL, NULL);

    (void)registration_plate_number_at(seed_perm_apply(&g->plate_perm, (uint64_t)i), number);
    /* Stored without the middle dot, as registration and violations do;
     * 浙A·12345 is the display form. */
    snprintf(r->plate, sizeof r->plate, "%s%s", g->prefix, number);
    vin_make(r->model->wmi, &s, reg_year, (uint64_t)i, g->seed, r->vin);
    snprintf(r->engine, sizeof r->engine, "%s%08" PRIu64, r->model->engine,
             (uint64_t)(seed_perm_apply(&g->engine_perm, (uint64_t)i) % ENGINE_SPACE));

    pick = (unsigned)seed_below(&s, 100);
    if (r->kind->type[0] == 'H')
        r->use = pick < 90 ? "freight" : "business";
    else if (strcmp(r->kind->type, "K11") == 0)
        r->use = "bus";
    else if (r->kind->type[0] == 'M')
        r->use = "private";
    else
        r->use = pick < 86 ? "private" : pick < 89 ? "business" : pick < 92 ? "government"
               : strcmp(r->kind->type, "K33") == 0 ? "taxi" : "private";
    pick = (unsigned)seed_below(&s, 1000);
    r->status = pick < 960 ? "normal" : pick < 970 ? "pending" : pick < 985 ? "seized" : "scrapped";
    r->has_inspect = pick < 985; /* a scrapped vehicle is never inspected again */
    if (r->has_inspect)
        date_format(g->today + 1 + (int32_t)seed_below(&s, 730), r->inspect);
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

int people_seed_vin(uint64_t seed, int64_t people, uint64_t idx, char out[18])
{
    gen_ctx g;
    veh_row r;

    if (idx >= REGISTRATION_PLATE_SPACE || people < 1)
        return -1;
    ctx_init(&g, seed, people, (int64_t)idx + 1);
    vehicle_fields(&g, (int64_t)idx, &r);
    memcpy(out, r.vin, 18);
    return 0;
}
/* ---- loading ------------------------------------------------------------------ */

static int gen_outlet_row(const void *g, int64_t i, void *row, db_val *v)
{
    return gen_outlet(g, i, row, v);
}

static int gen_citizen_row(const void *g, int64_t i, void *row, db_val *v)
{
    return gen_citizen(g, i, row, v);
}

static void drop_citizen_row(void *row)
{
    drop_citizen(row);
}

static int gen_licence_row(const void *g, int64_t i, void *row, db_val *v)
{
    return gen_licence(g, i, row, v);
}

static int gen_vehicle_row(const void *g, int64_t i, void *row, db_val *v)
{
    return gen_vehicle(g, i, row, v);
}

static const char *plate_prefix(const seed_ctx *ctx)
{
    return ctx->o.plate_prefix != NULL && ctx->o.plate_prefix[0] ? ctx->o.plate_prefix
                                                                 : DEFAULT_PREFIX;
}

static int people_seed_check(const seed_ctx *ctx, char *err, size_t errlen)
{
    const char *prefix = plate_prefix(ctx);
    gen_ctx g;

    ctx_init(&g, ctx->o.seed, ctx->o.people, ctx->o.vehicles);
    if (registration_plate_prefix_check(prefix, NULL) != 0) {
        snprintf(err, errlen, "plate prefix %s is not a province and office letter (e.g. 浙A)",
                 prefix);
        return -1;
    }
    if ((uint64_t)ctx->o.people > g.id_perm.n || (uint64_t)ctx->o.people > FILE_SPACE) {
        snprintf(err, errlen, "citizens: at most %llu people", (unsigned long long)FILE_SPACE);
        return -1;
    }
    if ((uint64_t)ctx->o.vehicles > REGISTRATION_PLATE_SPACE) {
        snprintf(err, errlen, "vehicles: at most %llu (the plate numbers of one prefix)",
                 (unsigned long long)REGISTRATION_PLATE_SPACE);
        return -1;
    }
    if (ctx->o.vehicles > 0 && ctx->o.people == 0) {
        snprintf(err, errlen, "vehicles: need at least one citizen to own them");
        return -1;
    }
    if (pii_keyring() == NULL) {
        snprintf(err, errlen, "citizens: the pii keyring is not loaded");
        return -1;
    }
    return 0;
}

/* Outlets, then citizens, their licences and their vehicles: each table's
 * ids continue where a run of this seed that died midway left them (or
 * after the largest id), and every table but outlets must be all new rows
 * unless it was resumed (outlets may already exist, with the same codes,
 * from an operator's set-up). */
static int people_seed_load(db_conn *c, const seed_ctx *ctx, int64_t *loaded, char *err,
                            size_t errlen)
{
    gen_ctx g;
    int64_t people = ctx->o.people, vehicles = ctx->o.vehicles, first_lic = -1;
    bool resumed_cit = false, resumed_lic = false, resumed_veh = false;
    char key[32];
    unsigned char hash[32];
    seed_table outlets_t = {"outlets", SQL_ADD_OUTLETS, 6, sizeof(any_row), gen_outlet_row, NULL,
                            NULL, &g};
    seed_table citizens_t = {"citizens", SQL_ADD_CITIZENS, 10, sizeof(any_row), gen_citizen_row,
                             drop_citizen_row, "cannot seal personal data (pii keys?)", &g};
    seed_table licences_t = {"licences", SQL_ADD_LICENCES, 11, sizeof(any_row), gen_licence_row,
                             NULL, NULL, &g};
    seed_table vehicles_t = {"vehicles", SQL_ADD_VEHICLES, 13, sizeof(any_row), gen_vehicle_row,
                             NULL, NULL, &g};

    ctx_init(&g, ctx->o.seed, people, vehicles);
    g.prefix = plate_prefix(ctx);
    if (people > 0) {
        id_number(&g, 0, key, NULL, NULL);
        pii_hash(PII_ID_NUMBER, key, hash);
        if (seed_find_offset(c, "citizens", SQL_FIND_CITIZEN, DB_BLOB(hash, 32), SQL_MAX_CITIZEN,
                             0, &g.cit_off, &resumed_cit, err, errlen) != 0)
            return -1;
        for (int64_t i = 0; i < people && first_lic < 0; i++) {
            int32_t birth = 0;

            id_number(&g, (uint64_t)i, key, &birth, NULL);
            if (age_at(birth, g.today) >= 18)
                first_lic = i;
        }
    }
    if (first_lic >= 0) {
        file_no(&g, (uint64_t)first_lic, key);
        if (seed_find_offset(c, "licences", SQL_FIND_LICENCE, DB_STR(key), SQL_MAX_LICENCE,
                             first_lic, &g.lic_off, &resumed_lic, err, errlen) != 0)
            return -1;
    }
    if (vehicles > 0) {
        veh_row vr;

        vehicle_fields(&g, 0, &vr);
        if (seed_find_offset(c, "vehicles", SQL_FIND_VEHICLE, DB_STR(vr.vin), SQL_MAX_VEHICLE, 0,
                             &g.veh_off, &resumed_veh, err, errlen) != 0)
            return -1;
    }
    if (seed_load(c, ctx, &outlets_t, N_OUTLETS, false, loaded, err, errlen) != 0 ||
        seed_load(c, ctx, &citizens_t, people, !resumed_cit, loaded, err, errlen) != 0 ||
        seed_load(c, ctx, &licences_t, first_lic >= 0 ? people : 0, !resumed_lic, loaded, err,
                  errlen) != 0 ||
        seed_load(c, ctx, &vehicles_t, vehicles, !resumed_veh, loaded, err, errlen) != 0)
        return -1;
    return 0;
}

const app_seeder people_seeder = {people_seed_check, people_seed_load};
